from django.urls import path

from . import api, search_api

urlpatterns = [
    path("listings/", api.ListingListAPIView.as_view(), name="api-listings"),
    path("listings/<int:pk>/", api.ListingDetailAPIView.as_view(), name="api-listing"),
    path("works/<int:pk>/", api.WorkDetailAPIView.as_view(), name="api-work"),
    path("categories/", api.CategoryTreeAPIView.as_view(), name="api-categories"),
    path("search/", search_api.SearchAPIView.as_view(), name="api-search"),
    path("search/suggestions/", search_api.SuggestionsAPIView.as_view(), name="api-search-suggestions"),
]
