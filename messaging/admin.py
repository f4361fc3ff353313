"""Operator tools. Conversations and messages are deliberately not in the admin: moderators
read a conversation only through its page while a report on it is open, and that read is
logged (messaging.access). Here: the reports, the blocks and the log of those reads."""

from django.contrib import admin
from django.utils.html import format_html

from .models import Block, ModeratorAccess, Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read only: reports are resolved on the moderation page, which tells the reporter."""

    list_display = ["pk", "reason", "status", "reporter", "created_at", "resolved_at", "conversation_page"]
    list_filter = ["status", "reason"]
    fields = readonly_fields = [
        "conversation",
        "message",
        "reporter",
        "reason",
        "details",
        "status",
        "created_at",
        "resolved_by",
        "resolved_at",
        "resolution",
        "conversation_page",
    ]

    @admin.display(description="Read it")
    def conversation_page(self, report):
        return format_html('<a href="{}">the conversation (logged)</a>', report.conversation.get_absolute_url())

    def has_add_permission(self, request):
        return False


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["blocked", "by_user", "by_shop", "created_by", "created_at"]
    raw_id_fields = ["blocked", "by_user", "by_shop", "created_by"]


@admin.register(ModeratorAccess)
class ModeratorAccessAdmin(admin.ModelAdmin):
    list_display = ["conversation_id", "moderator", "report", "via", "accessed_at"]
    list_filter = ["via"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
