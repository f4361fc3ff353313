from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from . import search, services, tagging
from .models import Category, Condition, Listing, Tag, TagFollow, Want, Work

# --- The operator's catalog: categories, conditions, works ----------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The category tree shoppers browse and facet by; `position` orders siblings."""

    list_display = ["name", "parent", "slug", "position"]
    list_editable = ["position"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["parent__name", "position", "name"]

    # Search keeps the tree between requests: every change here tells it to read it again.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        search.forget_category_tree()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        search.forget_category_tree()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        search.forget_category_tree()


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "rank"]
    list_editable = ["rank"]
    ordering = ["rank"]

    def has_delete_permission(self, request, obj=None):
        # Listings keep their condition (a protected key): a grade in use can be renamed, not removed.
        return obj is None or (super().has_delete_permission(request, obj) and not obj.listings.exists())


class WorkMergeActionForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Work.objects.none(),
        required=False,
        label="Merge into",
        help_text="One of the selected works; or leave empty and name a new work below.",
    )
    new_title = forms.CharField(label="…or a new work titled", max_length=255, required=False)
    new_creator = forms.CharField(label="by (author or artist)", max_length=255, required=False)

    def __init__(self, *args, works, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = works

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("into") and not cleaned.get("new_title", "").strip():
            raise ValidationError("Choose the work to merge into, or give the title of a new one.")
        return cleaned


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    """Works are made from the identifiers sellers type; here operators merge the works that
    are one and the same (the price comparator then shows their copies together)."""

    list_display = ["title", "creator", "identifier_kind", "identifier", "merged_into", "created_at"]
    list_filter = ["identifier_kind", ("merged_into", admin.EmptyFieldListFilter)]
    list_select_related = ["merged_into"]
    search_fields = ["title", "creator", "identifier"]
    readonly_fields = ["identifier_kind", "identifier", "merged_into", "merged_at", "created_at"]
    actions = ["merge_works"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Merge the selected works into one", permissions=["change"])
    def merge_works(self, request, queryset):
        form = WorkMergeActionForm(request.POST if "apply" in request.POST else None, works=queryset)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Merge works",
                "works": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/catalog/work/merge_form.html", context)
        try:
            into = form.cleaned_data["into"] or services.work_create_manual(
                actor=request.user, title=form.cleaned_data["new_title"], creator=form.cleaned_data["new_creator"]
            )
            moved = services.works_merge(actor=request.user, into=into, works=list(queryset))
        except ValidationError as error:
            self.message_user(request, _messages_of(error), messages.ERROR)
            return None
        self.message_user(
            request, f"Merged into “{into.title}”: {moved} listings now compared there.", messages.SUCCESS
        )
        return None


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    """A read-only view for operators: listings belong to their shops, which change them on the site."""

    list_display = ["title", "shop", "status", "price", "currency", "quantity", "published_at"]
    list_filter = ["status", "condition"]
    list_select_related = ["shop"]
    search_fields = ["title", "creator", "sku", "shop__name"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Folksonomy ---------------------------------------------------------------------------------------


class TagHideActionForm(forms.Form):
    reason = forms.CharField(max_length=tagging.MAX_HIDDEN_REASON_LENGTH, help_text="Kept with the decision.")


class TagMergeActionForm(forms.Form):
    into = forms.CharField(label="Merge into the tag", max_length=1000, help_text="Its name, e.g. tomato.")

    def clean_into(self):
        tag = tagging.find_tag(name=self.cleaned_data["into"])
        if tag is None:
            raise ValidationError(f"No tag is called “{self.cleaned_data['into']}”.")
        return tag


def _messages_of(error: ValidationError) -> str:
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return " ".join(message for messages_ in error.message_dict.values() for message in messages_)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Tags are made by tagging on the site; here operators merge synonyms and hide tags,
    through the same services as the moderation page (so the same rules apply)."""

    list_display = ["name", "slug", "use_count", "merged_into", "is_hidden", "hidden_reason", "created_at"]
    list_filter = ["is_hidden", ("merged_into", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]
    list_select_related = ["merged_into"]
    ordering = ["-use_count", "name"]
    readonly_fields = [
        "name",
        "slug",
        "use_count",
        "merged_into",
        "merged_by",
        "merged_at",
        "is_hidden",
        "hidden_reason",
        "hidden_by",
        "hidden_at",
        "created_at",
    ]
    actions = ["hide_tags", "unhide_tags", "merge_tags", "recount_tags"]

    def has_add_permission(self, request):
        return False

    def has_moderate_permission(self, request):
        return tagging.can_moderate_tags(request.user)

    def _intermediate(self, request, queryset, *, form, title, action, button):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "tags": queryset,
            "form": form,
            "action": action,
            "button": button,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/catalog/tag/action_form.html", context)

    @admin.action(description="Hide the selected tags (asks for the reason)", permissions=["moderate"])
    def hide_tags(self, request, queryset):
        form = TagHideActionForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._intermediate(
                request, queryset, form=form, title="Hide tags", action="hide_tags", button="Hide them"
            )
        hidden = [tagging.tag_hide(tag=tag, actor=request.user, reason=form.cleaned_data["reason"]) for tag in queryset]
        self.message_user(request, f"Hidden: {', '.join(tag.name for tag in hidden)}.", messages.SUCCESS)
        return None

    @admin.action(description="Show the selected hidden tags again", permissions=["moderate"])
    def unhide_tags(self, request, queryset):
        shown = []
        for tag in queryset.filter(is_hidden=True):
            tagging.tag_unhide(tag=tag, actor=request.user)
            shown.append(tag.name)
        self.message_user(request, f"Shown again: {', '.join(shown) or 'none (none was hidden)'}.", messages.SUCCESS)

    @admin.action(description="Merge the selected tags into another (synonyms)", permissions=["moderate"])
    def merge_tags(self, request, queryset):
        form = TagMergeActionForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._intermediate(
                request, queryset, form=form, title="Merge tags", action="merge_tags", button="Merge them"
            )
        into = form.cleaned_data["into"]
        merged = []
        for tag in queryset:
            try:
                main = tagging.tag_merge(synonym=tag, into=into, actor=request.user)
            except ValidationError as error:
                self.message_user(request, f"“{tag.name}”: {_messages_of(error)}", messages.ERROR)
            else:
                merged.append(tag.name)
        if merged:
            self.message_user(request, f"Now leading to “{main.name}”: {', '.join(merged)}.", messages.SUCCESS)
        return None

    @admin.action(description="Count the selected tags' uses again", permissions=["moderate"])
    def recount_tags(self, request, queryset):
        count = tagging.tags_recount(actor=request.user, tag_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Counted the uses of {count} tags again.", messages.SUCCESS)


@admin.register(TagFollow)
class TagFollowAdmin(admin.ModelAdmin):
    list_display = ["user", "tag", "created_at"]
    search_fields = ["user__username", "tag__name"]
    list_select_related = ["user", "tag"]
    readonly_fields = ["user", "tag", "created_at"]

    def has_add_permission(self, request):
        return False


# --- Want lists ---------------------------------------------------------------------------------------


@admin.register(Want)
class WantAdmin(admin.ModelAdmin):
    list_display = ["user", "text", "work", "max_price", "currency", "visibility", "is_active", "created_at"]
    list_filter = ["visibility", "is_active"]
    search_fields = ["user__username", "text"]
    raw_id_fields = ["user", "work"]
