from django.urls import path

from . import views

app_name = "social"
urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("feed/nearby/", views.nearby, name="nearby"),
    path("feed/everyone/", views.everyone, name="everyone"),
    path("sharing/", views.sharing, name="sharing"),
    path("sharing/stop/", views.sharing_stop, name="sharing_stop"),
    path("activity/", views.own_activity, name="activity"),
    path("activity/<int:pk>/withdraw/", views.activity_withdraw, name="activity_withdraw"),
    path("people/<str:username>/follow/", views.follow_person, name="follow_person"),
    path("people/<str:username>/unfollow/", views.unfollow_person, name="unfollow_person"),
    path("people/<str:username>/followers/", views.followers, name="followers"),
    path("people/<str:username>/following/", views.following, name="following"),
    path("people/<str:username>/favourites/", views.person_favourites, name="person_favourites"),
    path("followers/<str:username>/remove/", views.follower_remove, name="follower_remove"),
    path("shops/<slug:slug>/follow/", views.follow_shop, name="follow_shop"),
    path("shops/<slug:slug>/unfollow/", views.unfollow_shop, name="unfollow_shop"),
    path("shops/<slug:slug>/followers/", views.shop_followers, name="shop_followers"),
    path("shops/<slug:slug>/favourite/", views.favourite_shop, name="favourite_shop"),
    path("listings/<int:pk>/favourite/", views.favourite_listing, name="favourite_listing"),
    path("favourites/", views.favourites, name="favourites"),
    path("favourites/<int:pk>/", views.favourite_list, name="favourite_list"),
    path("favourites/<int:pk>/edit/", views.favourite_list_edit, name="favourite_list_edit"),
    path("favourites/<int:pk>/delete/", views.favourite_list_delete, name="favourite_list_delete"),
    path("favourites/items/<int:pk>/remove/", views.favourite_remove, name="favourite_remove"),
]
