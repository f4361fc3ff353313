"""Operator views of the social layer. Sharing decisions are a record and cannot be edited;
activity can be looked at and removed (for a moderation decision), not rewritten."""

from django.contrib import admin

from .models import Activity, FavouriteList, Follow, ListingEvent, RecommendationsState, SharingConsent


@admin.register(SharingConsent)
class SharingConsentAdmin(admin.ModelAdmin):
    list_display = ["user", "decision", "wording_version", "use_for_recommendations", "decided_at"]
    list_filter = ["decision", "wording_version"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "decision", "wording_version", "audiences", "use_for_recommendations", "decided_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["actor", "kind", "audience", "ceiling", "created_at"]
    list_filter = ["kind", "audience"]
    search_fields = ["actor__username"]
    raw_id_fields = ["actor", "listing", "shop", "work", "favourite", "want", "tag_application"]
    readonly_fields = ["audience", "ceiling", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "person", "shop", "audience", "created_at"]
    search_fields = ["follower__username", "person__username", "shop__slug"]
    raw_id_fields = ["follower", "person", "shop"]


@admin.register(FavouriteList)
class FavouriteListAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "visibility", "created_at"]
    search_fields = ["owner__username", "name"]
    raw_id_fields = ["owner"]


@admin.register(ListingEvent)
class ListingEventAdmin(admin.ModelAdmin):
    """The outbox of listing news: what is still being told, and how far it got."""

    list_display = ["listing", "kind", "is_new", "stage", "told_through", "created_at", "done_at"]
    list_filter = ["kind", "stage"]
    raw_id_fields = ["listing", "actor"]


@admin.register(RecommendationsState)
class RecommendationsStateAdmin(admin.ModelAdmin):
    list_display = ["counted_events", "updated_at", "trending_at"]
