from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from .models import BreachNotice, ConsentRecord, DataAccess, DataExport, User
from .services import breach_notify, data_access_record


class PersonalDataAdminMixin:
    """An operator opening one person's private data in the admin says why first; the read is
    logged (accounts.DataAccess) and shown to the person on their privacy page."""

    personal_data_what = DataAccess.What.PROFILE

    def person_of(self, obj) -> User | None:
        raise NotImplementedError

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if request.method == "GET" else None
        person = self.person_of(obj) if obj is not None else None
        if person is not None and person.pk != request.user.pk:
            reason = request.GET.get("access_reason", "").strip()
            if not reason:
                context = {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "object": obj,
                    "person": person,
                    "title": "Why are you opening this?",
                }
                return TemplateResponse(request, "admin/accounts/access_reason.html", context)
            data_access_record(
                subject=person,
                accessed_by=request.user,
                what=self.personal_data_what,
                reason=reason,
                object_label=str(obj),
            )
        return super().change_view(request, object_id, form_url, extra_context)


class BreachNoticeForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea, help_text="What happened, what data it concerns, and what people should do now."
    )


@admin.action(description="Send a security (breach) notice to the selected people")
def send_breach_notice(modeladmin, request, queryset):
    form = BreachNoticeForm(request.POST if "send_notice" in request.POST else None)
    if form.is_valid():
        try:
            notice = breach_notify(sent_by=request.user, recipients=list(queryset), **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            modeladmin.message_user(request, f"Notice sent to {notice.recipients_count} people.", messages.SUCCESS)
            return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "form": form,
        "people": queryset,
        "title": "Send a security notice",
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/accounts/breach_notice.html", context)


@admin.register(User)
class UserAdmin(PersonalDataAdminMixin, BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "country", "city", "avatar_small", "avatar_large")}),
    )
    list_display = ("username", "email", "display_name", "country", "city", "is_staff", "date_joined")
    search_fields = ("username", "email", "display_name", "city")
    actions = [send_breach_notice]

    def person_of(self, obj):
        return obj


@admin.register(BreachNotice)
class BreachNoticeAdmin(admin.ModelAdmin):
    list_display = ("title", "recipients_count", "sent_by", "sent_at")
    readonly_fields = ("title", "description", "recipients_count", "sent_by", "sent_at")

    def has_add_permission(self, request):
        return False  # sent from the people list's action, which notifies them


@admin.register(DataAccess)
class DataAccessAdmin(admin.ModelAdmin):
    list_display = ("accessed_at", "accessed_by_name", "what", "subject", "reason")
    list_filter = ("what",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    """The exports' state, never their content: only the owner downloads a file."""

    list_display = ("user", "status", "requested_at", "ready_at", "expires_at", "size_bytes")
    fields = ("user", "status", "requested_at", "ready_at", "expires_at", "size_bytes", "error")
    readonly_fields = fields


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ("user", "purpose", "is_given", "wording_version", "decided_at")
    list_filter = ("purpose", "is_given")
    readonly_fields = ("user", "purpose", "is_given", "wording_version", "decided_at")
