"""Operator tools: the moderation queue in the admin. Reviews and ratings are written on the
site; here moderators keep, hide or remove them and decide appeals, through the same services
as the staff page (so the same rules apply: a reason, never one's own shop, another moderator
for an appeal)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.urls import reverse

from . import selectors, services
from .models import (
    Appeal,
    BuyerFeedback,
    Flag,
    ModerationDecision,
    Review,
    SellerRating,
    ShopRatingSummary,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The author and the shop are told.")


class AppealDecisionForm(ReasonForm):
    outcome = forms.ChoiceField(choices=ModerationDecision.Outcome.choices)


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


class NeedsDecisionFilter(admin.SimpleListFilter):
    title = "moderation"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for a moderator (held or reported)")]

    def queryset(self, request, queryset):
        if self.value() != "waiting":
            return queryset
        field = "review" if queryset.model is Review else "rating"
        open_flags = Flag.objects.filter(decision__isnull=True, **{f"{field}_id": OuterRef("pk")})
        return queryset.filter(Q(status="held") | Q(Exists(open_flags)))


class FlagInline(admin.TabularInline):
    model = Flag
    extra = 0
    can_delete = False
    fields = ["created_at", "reason", "note", "reporter", "reporter_is_shop", "decision"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DecisionInline(admin.TabularInline):
    model = ModerationDecision
    extra = 0
    can_delete = False
    fields = ["created_at", "moderator", "outcome", "reason", "previous_status", "appeal"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class _ModeratedAdmin(admin.ModelAdmin):
    """Read-only but for the decisions, which go through reviews.services.decision_make."""

    list_filter = [NeedsDecisionFilter, "status"]
    list_select_related = ["author", "shop"]
    inlines = [FlagInline, DecisionInline]
    actions = ["keep", "hide", "remove"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_moderate_permission(self, request):
        return selectors.can_moderate_reviews(request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.can_moderate_reviews(request.user) or super().has_view_permission(request, obj)

    def _decide(self, request, queryset, *, outcome: str, title: str):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": title,
                "items": queryset,
                "form": form,
                "action": outcome,
                "button": title,
                "opts": self.model._meta,
                "changelist_url": reverse(f"admin:reviews_{self.model._meta.model_name}_changelist"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/reviews/action_form.html", context)
        done = []
        for subject in queryset:
            try:
                services.decision_make(
                    subject=subject, moderator=request.user, outcome=outcome, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                self.message_user(request, f"{subject}: {_messages_of(error)}", messages.ERROR)
            else:
                done.append(str(subject))
        if done:
            self.message_user(request, f"Decided ({outcome}): {'; '.join(done)}.", messages.SUCCESS)
        return None

    @admin.action(description="Keep the selected published (asks for the reason)", permissions=["moderate"])
    def keep(self, request, queryset):
        return self._decide(request, queryset, outcome="keep", title="Keep them")

    @admin.action(description="Hide the selected (asks for the reason)", permissions=["moderate"])
    def hide(self, request, queryset):
        return self._decide(request, queryset, outcome="hide", title="Hide them")

    @admin.action(description="Remove the selected (asks for the reason)", permissions=["moderate"])
    def remove(self, request, queryset):
        return self._decide(request, queryset, outcome="remove", title="Remove them")


@admin.register(Review)
class ReviewAdmin(_ModeratedAdmin):
    list_display = ["title", "stars", "item_title", "shop", "author", "status", "helpful_count", "created_at"]
    search_fields = ["title", "item_title", "author__username", "shop__slug"]
    readonly_fields = [
        "order_item",
        "order",
        "author",
        "shop",
        "listing",
        "work",
        "item_title",
        "stars",
        "title",
        "text",
        "status",
        "held_reason",
        "helpful_count",
        "reply_text",
        "replied_by",
        "replied_at",
        "created_at",
        "edited_at",
        "editable_until",
    ]
    exclude = ["text_html", "reply_html"]


@admin.register(SellerRating)
class SellerRatingAdmin(_ModeratedAdmin):
    list_display = ["order", "shop", "author", "overall", "status", "revealed_at", "counts_towards_score", "created_at"]
    search_fields = ["author__username", "shop__slug", "=order__id"]
    readonly_fields = [
        "order",
        "author",
        "shop",
        "overall",
        "item_as_described",
        "communication",
        "shipping_speed",
        "comment",
        "status",
        "held_reason",
        "counts_towards_score",
        "revealed_at",
        "reply_text",
        "replied_by",
        "replied_at",
        "created_at",
        "edited_at",
        "editable_until",
    ]
    exclude = ["comment_html", "reply_html"]


@admin.register(Appeal)
class AppealAdmin(admin.ModelAdmin):
    """Appeals are decided here or on the staff page, by another moderator than the one who decided."""

    list_display = ["__str__", "side", "appellant", "created_at", "decided_at"]
    list_filter = [("decided_at", admin.EmptyFieldListFilter), "side"]
    list_select_related = ["appellant", "decision"]
    readonly_fields = ["decision", "appellant", "side", "statement", "created_at", "decided_at"]
    actions = ["decide"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_moderate_permission(self, request):
        return selectors.can_moderate_reviews(request.user)

    def has_view_permission(self, request, obj=None):
        return selectors.can_moderate_reviews(request.user) or super().has_view_permission(request, obj)

    @admin.action(description="Decide the selected appeals (asks for the outcome and reason)", permissions=["moderate"])
    def decide(self, request, queryset):
        form = AppealDecisionForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Decide appeals",
                "items": queryset,
                "form": form,
                "action": "decide",
                "button": "Decide",
                "opts": self.model._meta,
                "changelist_url": reverse("admin:reviews_appeal_changelist"),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/reviews/action_form.html", context)
        for appeal in queryset.select_related("decision__review__shop", "decision__rating__shop"):
            try:
                services.appeal_decide(appeal=appeal, moderator=request.user, **form.cleaned_data)
            except ValidationError as error:
                self.message_user(request, f"{appeal}: {_messages_of(error)}", messages.ERROR)
            else:
                self.message_user(request, f"{appeal}: decided.", messages.SUCCESS)
        return None


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "outcome", "moderator", "review", "rating", "appeal", "created_at"]
    list_filter = ["outcome"]
    list_select_related = ["moderator", "review", "rating", "appeal"]


@admin.register(Flag)
class FlagAdmin(_ReadOnlyAdmin):
    list_display = ["__str__", "reason", "review", "rating", "reporter_is_shop", "decision", "created_at"]
    list_filter = ["reason", ("decision", admin.EmptyFieldListFilter)]
    list_select_related = ["reporter", "review", "rating", "decision"]


@admin.register(BuyerFeedback)
class BuyerFeedbackAdmin(_ReadOnlyAdmin):
    list_display = ["order", "shop", "buyer", "value", "revealed_at", "created_at"]
    list_filter = ["value"]
    list_select_related = ["order", "shop", "buyer"]


@admin.register(ShopRatingSummary)
class ShopRatingSummaryAdmin(_ReadOnlyAdmin):
    list_display = ["shop", "score", "rating_count", "review_count", "held_count", "taken_down_count"]
    ordering = ["-score"]
    list_select_related = ["shop"]
