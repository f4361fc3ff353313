from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("display_name", "bio", "country", "city", "avatar_small", "avatar_large")}),
    )
    list_display = ("username", "email", "display_name", "country", "city", "is_staff", "date_joined")
    search_fields = ("username", "email", "display_name", "city")
