from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from . import tagging
from .models import Tag, TagFollow

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
