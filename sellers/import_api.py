"""API of the bulk inventory import. Routed in sellers/api_urls.py.

Only the shop's people see or start its imports; everyone else, signed in or not, gets a 404.
"""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .import_views import listing_url
from .imports import MAX_ROWS, import_rows, inventory_import_start, shop_imports
from .models import InventoryImport, InventoryImportRow
from .selectors import access_shop_for_edit


class InventoryImportSerializer(serializers.ModelSerializer):
    # A plain string in the schema: an enum here would collide with the listings' "status" enum
    # (drf-spectacular names enums after the field) unless ENUM_NAME_OVERRIDES names both.
    status = serializers.CharField(read_only=True, help_text="queued, running, done or failed.")
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True, allow_null=True, default=None)
    url = serializers.SerializerMethodField(help_text="This import in the API.")
    page_url = serializers.SerializerMethodField(help_text="This import's page, with progress and report.")
    report_url = serializers.SerializerMethodField(help_text="The per-row report as CSV.")

    class Meta:
        model = InventoryImport
        fields = [
            "id",
            "original_name",
            "status",
            "failure_reason",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "rejected_count",
            "uploaded_by",
            "created_at",
            "finished_at",
            "url",
            "page_url",
            "report_url",
        ]
        read_only_fields = fields

    def _absolute(self, name: str, job: InventoryImport) -> str:
        location = reverse(name, kwargs={"slug": job.shop.slug, "pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(location) if request else location

    def get_url(self, job: InventoryImport) -> str:
        return self._absolute("api-shop-import", job)

    def get_page_url(self, job: InventoryImport) -> str:
        return self._absolute("imports:detail", job)

    def get_report_url(self, job: InventoryImport) -> str:
        return self._absolute("imports:report", job)


class InventoryImportStartedSerializer(InventoryImportSerializer):
    ignored_columns = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Columns of the file that Plural does not use."
    )

    class Meta(InventoryImportSerializer.Meta):
        fields = [*InventoryImportSerializer.Meta.fields, "ignored_columns"]
        read_only_fields = fields


class InventoryImportRowSerializer(serializers.ModelSerializer):
    listing = serializers.IntegerField(source="listing_id", read_only=True, allow_null=True)
    listing_url = serializers.SerializerMethodField(help_text="The listing's page, when the row made or updated one.")

    class Meta:
        model = InventoryImportRow
        fields = ["line_number", "sku", "outcome", "message", "listing", "listing_url"]
        read_only_fields = fields

    def get_listing_url(self, row: InventoryImportRow) -> str:
        location = listing_url(row.listing_id)
        request = self.context.get("request")
        return request.build_absolute_uri(location) if location and request else location


class InventoryImportRowPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = InventoryImportRowSerializer(many=True)


class InventoryImportPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = InventoryImportSerializer(many=True)


class InventoryImportDetailSerializer(InventoryImportSerializer):
    rows = InventoryImportRowPageSerializer(read_only=True, help_text="One page of the per-row report.")

    class Meta(InventoryImportSerializer.Meta):
        fields = [*InventoryImportSerializer.Meta.fields, "rows"]
        read_only_fields = fields


class InventoryImportUploadSerializer(serializers.Serializer):
    data_file = serializers.FileField(
        help_text=f"CSV or tab-delimited text with a header line, up to 10 MB and {MAX_ROWS:,} rows."
    )
    images_archive = serializers.FileField(
        required=False, help_text="A zip of the images named in the file's image column, up to 100 MB."
    )
    as_drafts = serializers.BooleanField(
        required=False, default=False, help_text="Create new listings as drafts instead of putting them on sale."
    )


class ImportPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class ShopImportsAPIView(APIView):
    # Outsiders get the 404 of access_shop_for_edit, never a 401/403 that confirms the shop.
    permission_classes = [AllowAny]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        operation_id="shops_imports_list",
        summary="A shop's inventory imports",
        description="The shop's imports, newest first. Only the shop's people; 404 for everyone else.",
        responses=InventoryImportPageSerializer,
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="Page number.")],
    )
    def get(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(shop_imports(shop=shop), request, view=self)
        return paginator.get_paginated_response(
            InventoryImportSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="shops_imports_create",
        summary="Import inventory from a file",
        description=(
            "Upload a CSV or tab-delimited file (columns sku, title, author or artist, isbn / ean / catalog number, "
            "price, quantity, condition, description, tags, image) and optionally a zip of images. A file that "
            "cannot be imported as a whole is refused with 400 and nothing is recorded. Otherwise rows are matched "
            "to the shop's listings by sku (created, updated or rejected with the reason); small files are done "
            "when this answers, larger ones run in the background: follow `url` for progress and the report."
        ),
        request={"multipart/form-data": InventoryImportUploadSerializer},
        responses={201: InventoryImportStartedSerializer},
    )
    def post(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        serializer = InventoryImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = inventory_import_start(
            shop=shop,
            actor=request.user,
            data_file=data["data_file"],
            images_archive=data.get("images_archive"),
            as_drafts=data["as_drafts"],
        )
        body = InventoryImportStartedSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class ShopImportAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="shops_imports_retrieve",
        summary="An inventory import: progress, counts and report",
        description=(
            "Status, progress (processed_rows of total_rows), counts per outcome and one page of the per-row "
            "report. Only the shop's people; 404 for everyone else."
        ),
        parameters=[
            OpenApiParameter("outcome", OpenApiTypes.STR, enum=InventoryImportRow.Outcome.values),
            OpenApiParameter("page", OpenApiTypes.INT, description="Page of the report rows."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Report rows per page, at most 500."),
        ],
        responses=InventoryImportDetailSerializer,
    )
    def get(self, request, slug: str, pk: int):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        job = get_object_or_404(InventoryImport.objects.select_related("shop", "uploaded_by"), shop=shop, pk=pk)
        outcome = request.query_params.get("outcome", "")
        if outcome not in InventoryImportRow.Outcome.values:
            outcome = ""
        paginator = ImportPagination()
        rows = paginator.paginate_queryset(import_rows(inventory_import=job, outcome=outcome), request, view=self)
        body = InventoryImportSerializer(job, context={"request": request}).data
        body["rows"] = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": InventoryImportRowSerializer(rows, many=True, context={"request": request}).data,
        }
        return Response(body)
