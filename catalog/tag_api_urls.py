from django.urls import path

from . import tag_api

urlpatterns = [
    path("tags/", tag_api.TagListAPIView.as_view(), name="api-tags"),
    # Before tags/<slug>/: no tag gets this slug (catalog.models.RESERVED_TAG_SLUGS).
    path("tags/following/", tag_api.FollowedTagListingsAPIView.as_view(), name="api-tags-following"),
    path("tags/<str:slug>/", tag_api.TagDetailAPIView.as_view(), name="api-tag"),
    path("tags/<str:slug>/listings/", tag_api.TagListingsAPIView.as_view(), name="api-tag-listings"),
    path("tags/<str:slug>/follow/", tag_api.TagFollowAPIView.as_view(), name="api-tag-follow"),
    path("tags/<str:slug>/merge/", tag_api.TagMergeAPIView.as_view(), name="api-tag-merge"),
    path("tags/<str:slug>/hide/", tag_api.TagHideAPIView.as_view(), name="api-tag-hide"),
    path("tags/<str:slug>/unhide/", tag_api.TagUnhideAPIView.as_view(), name="api-tag-unhide"),
    path("listings/<int:pk>/tags/", tag_api.ListingTagsAPIView.as_view(), name="api-listing-tags"),
    path("listings/<int:pk>/tags/<str:slug>/", tag_api.ListingTagRemoveAPIView.as_view(), name="api-listing-tag"),
    path("people/<str:username>/tags/", tag_api.PersonTagsAPIView.as_view(), name="api-person-tags"),
]
