from django.urls import path

from . import api

urlpatterns = [
    path("feed/", api.FeedAPIView.as_view(), name="api-feed"),
    path("trending/", api.TrendingAPIView.as_view(), name="api-trending"),
    path("tags/following/people/", api.PeopleTaggedAPIView.as_view(), name="api-tags-following-people"),
    path("sharing/", api.SharingAPIView.as_view(), name="api-sharing"),
    path("activity/", api.OwnActivityAPIView.as_view(), name="api-activity"),
    path("activity/<int:pk>/", api.ActivityWithdrawAPIView.as_view(), name="api-activity-withdraw"),
    path("follows/", api.FollowListAPIView.as_view(), name="api-follows"),
    path("follows/people/<str:username>/", api.UnfollowPersonAPIView.as_view(), name="api-unfollow-person"),
    path("follows/shops/<slug:slug>/", api.UnfollowShopAPIView.as_view(), name="api-unfollow-shop"),
    path("followers/<str:username>/", api.FollowerRemoveAPIView.as_view(), name="api-follower-remove"),
    path("people/<str:username>/followers/", api.PersonFollowersAPIView.as_view(), name="api-person-followers"),
    path("people/<str:username>/following/", api.PersonFollowingAPIView.as_view(), name="api-person-following"),
    path("people/<str:username>/activity/", api.PersonActivityAPIView.as_view(), name="api-person-activity"),
    path("people/<str:username>/favourite-lists/", api.PersonListsAPIView.as_view(), name="api-person-lists"),
    path("shops/<slug:slug>/followers/", api.ShopFollowersAPIView.as_view(), name="api-shop-followers"),
    path("favourite-lists/", api.FavouriteListsAPIView.as_view(), name="api-favourite-lists"),
    path("favourite-lists/<int:pk>/", api.FavouriteListAPIView.as_view(), name="api-favourite-list"),
    path("favourite-lists/<int:pk>/items/", api.FavouriteListItemsAPIView.as_view(), name="api-favourite-list-items"),
    path("favourites/", api.FavouritesAPIView.as_view(), name="api-favourites"),
    path("favourites/<int:pk>/", api.FavouriteAPIView.as_view(), name="api-favourite"),
    path("recommendations/", api.RecommendationsAPIView.as_view(), name="api-recommendations"),
]
