from django.urls import path

from . import want_views

app_name = "wants"
urlpatterns = [
    path("wants/", want_views.want_list, name="list"),
    path("wants/<int:pk>/", want_views.want_detail, name="detail"),
    path("wants/<int:pk>/edit/", want_views.want_edit, name="edit"),
    path("wants/<int:pk>/delete/", want_views.want_delete, name="delete"),
    path("people/<str:username>/wants/", want_views.person_wants, name="person"),
    path("shops/<slug:slug>/demand/", want_views.shop_demand, name="demand"),
]
