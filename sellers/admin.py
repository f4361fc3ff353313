from django.contrib import admin

from .models import InventoryImport, InventoryImportRow, Shop, ShopMember


class ShopMemberInline(admin.TabularInline):
    model = ShopMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "country", "city", "currency", "is_on_vacation", "created_at"]
    list_filter = ["is_on_vacation", "currency", "country"]
    search_fields = ["name", "slug", "owner__username", "city"]
    readonly_fields = ["about_html", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]
    inlines = [ShopMemberInline]


@admin.register(ShopMember)
class ShopMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "shop", "role", "title", "added_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "shop__name", "shop__slug"]
    list_select_related = ["user", "shop"]
    autocomplete_fields = ["user", "shop"]


class InventoryImportRowInline(admin.TabularInline):
    model = InventoryImportRow
    extra = 0
    fields = ["line_number", "sku", "outcome", "message", "listing"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InventoryImport)
class InventoryImportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "shop", "status", "total_rows", "created_count", "updated_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["original_name", "shop__name", "shop__slug"]
    list_select_related = ["shop"]
    readonly_fields = [field.name for field in InventoryImport._meta.fields]
    inlines = [InventoryImportRowInline]
