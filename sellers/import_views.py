"""Pages of the bulk inventory import: upload and past imports, progress and report, report CSV.

Every page resolves the shop with access_shop_for_edit: anyone but the shop's people gets a 404.
"""

import csv

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from .imports import (
    COLUMN_SYNONYMS,
    INLINE_MAX_ROWS,
    MAX_ROWS,
    import_rows,
    inventory_import_start,
    is_import_running,
    shop_imports,
)
from .models import InventoryImport, InventoryImportRow
from .selectors import access_shop_for_edit

DATA_FILE_ACCEPT = ".csv,.tsv,.tab,.txt,text/csv,text/tab-separated-values,text/plain"
ROWS_PER_PAGE = 100
IMPORTS_PER_PAGE = 20
REFRESH_SECONDS = 3
COLUMN_HELP = {
    "sku": "Your own reference. A row whose sku matches one of your listings updates that listing.",
    "title": "Required.",
    "creator": "Author or artist.",
    "identifier": "ISBN-10 or ISBN-13, EAN, or the label's catalog number.",
    "price": "Required. In your shop's currency, for example 12.50.",
    "quantity": "Copies in stock; 1 when blank.",
    "condition": "new, as new, fine, very good, good, fair or poor; good when blank.",
    "description": "Markdown.",
    "tags": "Separated by commas or semicolons.",
    "image": "The path of a picture inside the zip of images.",
    "publisher": "Publisher or record label.",
    "year": "For example 1984.",
    "format": "Hardcover, paperback, LP, CD…",
    "currency": "Three letters, for example GBP; your shop's currency when blank.",
}


class InventoryImportForm(forms.Form):
    data_file = forms.FileField(
        label="Inventory file",
        help_text=f"CSV (comma-separated) or tab-delimited text, up to 10 MB and {MAX_ROWS:,} rows.",
        widget=forms.ClearableFileInput(attrs={"accept": DATA_FILE_ACCEPT}),
    )
    images_archive = forms.FileField(
        label="Images (zip)",
        required=False,
        help_text="Optional. A zip of the pictures named in the image column, up to 100 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )
    as_drafts = forms.BooleanField(
        label="Import new listings as drafts",
        required=False,
        help_text="Otherwise new listings go on sale as soon as they are imported.",
    )


def listing_url(listing_id: int | None) -> str:
    """The listing's page, or "" while the catalog has no listing page to link to."""
    if listing_id is None:
        return ""
    try:
        return reverse("catalog:listing", kwargs={"pk": listing_id})
    except NoReverseMatch:
        return ""


def _outcome_filter(request) -> str:
    outcome = request.GET.get("outcome", "")
    return outcome if outcome in InventoryImportRow.Outcome.values else ""


@require_http_methods(["GET", "POST"])
def import_list(request, slug: str):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    if request.method == "POST":
        form = InventoryImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = inventory_import_start(
                    shop=shop,
                    actor=request.user,
                    data_file=form.cleaned_data["data_file"],
                    images_archive=form.cleaned_data["images_archive"] or None,
                    as_drafts=form.cleaned_data["as_drafts"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if job.ignored_columns:
                    messages.info(request, f"These columns were not imported: {', '.join(job.ignored_columns)}.")
                messages.success(request, f"{job.original_name} was received: {job.total_rows:,} rows.")
                return redirect("imports:detail", slug=shop.slug, pk=job.pk)
    else:
        form = InventoryImportForm()
    page = Paginator(shop_imports(shop=shop), IMPORTS_PER_PAGE).get_page(request.GET.get("page"))
    columns = [(synonyms[0], synonyms[1:], COLUMN_HELP[name]) for name, synonyms in COLUMN_SYNONYMS.items()]
    return render(
        request,
        "sellers/imports/list.html",
        {"shop": shop, "form": form, "page": page, "columns": columns, "inline_max_rows": INLINE_MAX_ROWS},
    )


@require_GET
def import_detail(request, slug: str, pk: int):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    job = get_object_or_404(InventoryImport.objects.select_related("uploaded_by"), shop=shop, pk=pk)
    outcome = _outcome_filter(request)
    page = Paginator(import_rows(inventory_import=job, outcome=outcome), ROWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for row in page:
        row.listing_url = listing_url(row.listing_id)
    filters = [
        ("", "All", job.processed_rows),
        (InventoryImportRow.Outcome.CREATED, "Created", job.created_count),
        (InventoryImportRow.Outcome.UPDATED, "Updated", job.updated_count),
        (InventoryImportRow.Outcome.REJECTED, "Rejected", job.rejected_count),
    ]
    return render(
        request,
        "sellers/imports/detail.html",
        {
            "shop": shop,
            "job": job,
            "page": page,
            "outcome": outcome,
            "filters": filters,
            "is_running": is_import_running(job),
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


def _spreadsheet_safe(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@require_GET
def import_report(request, slug: str, pk: int):
    shop = access_shop_for_edit(user=request.user, slug=slug)
    job = get_object_or_404(InventoryImport, shop=shop, pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    response.write("\ufeff")  # so that spreadsheets open the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(["line", "sku", "outcome", "message", "listing"])
    for row in import_rows(inventory_import=job, outcome=_outcome_filter(request)).iterator(chunk_size=2000):
        url = listing_url(row.listing_id)
        writer.writerow(
            [
                row.line_number,
                _spreadsheet_safe(row.sku),
                row.outcome,
                _spreadsheet_safe(row.message),
                request.build_absolute_uri(url) if url else "",
            ]
        )
    return response
