from django.urls import path

from . import api, import_api

urlpatterns = [
    path("shops/", api.ShopListCreateAPIView.as_view(), name="api-shops"),
    path("shops/<slug:slug>/", api.ShopDetailAPIView.as_view(), name="api-shop"),
    path("shops/<slug:slug>/listings/", api.ShopListingsAPIView.as_view(), name="api-shop-listings"),
    path("shops/<slug:slug>/listings/bulk/", api.ShopBulkActionAPIView.as_view(), name="api-shop-listings-bulk"),
    path("shops/<slug:slug>/listings/<int:pk>/", api.ShopListingDetailAPIView.as_view(), name="api-shop-listing"),
    path(
        "shops/<slug:slug>/listings/<int:pk>/images/",
        api.ShopListingImagesAPIView.as_view(),
        name="api-shop-listing-images",
    ),
    path(
        "shops/<slug:slug>/listings/<int:pk>/images/<int:image_id>/",
        api.ShopListingImageDetailAPIView.as_view(),
        name="api-shop-listing-image",
    ),
    path(
        "shops/<slug:slug>/listings/<int:pk>/duplicate/",
        api.ShopListingDuplicateAPIView.as_view(),
        name="api-shop-listing-duplicate",
    ),
    path("shops/<slug:slug>/people/", api.ShopMembersAPIView.as_view(), name="api-shop-people"),
    path("shops/<slug:slug>/people/<int:member_id>/", api.ShopMemberAPIView.as_view(), name="api-shop-person"),
    path("shops/<slug:slug>/imports/", import_api.ShopImportsAPIView.as_view(), name="api-shop-imports"),
    path("shops/<slug:slug>/imports/<int:pk>/", import_api.ShopImportAPIView.as_view(), name="api-shop-import"),
]
