from django.urls import path

from .api import ApiTokenDetailAPIView, ApiTokenListAPIView, MeAPIView, PeopleSearchAPIView, PersonAPIView

urlpatterns = [
    path("me/", MeAPIView.as_view(), name="api-me"),
    path("me/tokens/", ApiTokenListAPIView.as_view(), name="api-tokens"),
    path("me/tokens/<int:token_id>/", ApiTokenDetailAPIView.as_view(), name="api-token"),
    path("people/", PeopleSearchAPIView.as_view(), name="api-people-search"),
    path("people/<str:username>/", PersonAPIView.as_view(), name="api-person"),
]
