from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("listings/<int:pk>/", views.listing_detail, name="listing"),
    path("works/<int:pk>/", views.work_detail, name="work"),
    path("categories/", views.category_index, name="categories"),
    path("categories/<int:pk>-<slug:slug>/", views.category_detail, name="category"),
]
