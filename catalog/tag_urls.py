from django.urls import path

from . import tag_views

app_name = "tags"
urlpatterns = [
    path("tags/", tag_views.tag_cloud, name="cloud"),
    # Before tags/<slug>/: no tag gets these slugs (catalog.models.RESERVED_TAG_SLUGS).
    path("tags/following/", tag_views.following, name="following"),
    path("tags/moderation/", tag_views.moderation, name="moderation"),
    path("tags/moderation/merge/", tag_views.merge, name="merge"),
    path("tags/moderation/hide/", tag_views.hide, name="hide"),
    path("tags/moderation/unhide/", tag_views.unhide, name="unhide"),
    # str, not slug: tag slugs keep letters of every script.
    path("tags/<str:slug>/", tag_views.tag_detail, name="tag"),
    path("tags/<str:slug>/follow/", tag_views.follow, name="follow"),
    path("tags/<str:slug>/unfollow/", tag_views.unfollow, name="unfollow"),
    path("listings/<int:pk>/tags/", tag_views.apply, name="apply"),
    path("listings/<int:pk>/tags/<str:slug>/remove/", tag_views.remove, name="remove"),
]
