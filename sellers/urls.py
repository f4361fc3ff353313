from django.urls import path

from . import views

app_name = "sellers"
urlpatterns = [
    path("shops/new/", views.shop_create, name="shop_create"),
    path("shops/<slug:slug>/", views.storefront, name="storefront"),
    path("shops/<slug:slug>/edit/", views.shop_edit, name="shop_edit"),
    path("shops/<slug:slug>/people/", views.shop_people, name="people"),
    path("shops/<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path("shops/<slug:slug>/dashboard/listings/new/", views.listing_create, name="listing_create"),
    path("shops/<slug:slug>/dashboard/listings/<int:pk>/", views.listing_edit, name="listing_edit"),
    path("shops/<slug:slug>/dashboard/listings/<int:pk>/status/", views.listing_status, name="listing_status"),
    path("shops/<slug:slug>/dashboard/listings/<int:pk>/duplicate/", views.listing_duplicate, name="listing_duplicate"),
    path("shops/<slug:slug>/dashboard/listings/<int:pk>/delete/", views.listing_delete, name="listing_delete"),
    path(
        "shops/<slug:slug>/dashboard/listings/<int:pk>/images/<int:image_id>/remove/",
        views.listing_image_remove,
        name="listing_image_remove",
    ),
]
