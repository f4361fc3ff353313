"""The floors and naive baselines the benchmark measures every page against, in the same run.

Mounted under /bench/ only when settings.PLURAL_BENCH is on (never in a normal deployment):
- hello: Django answering with no database work at all;
- one query: one indexed ORM query (a listing by primary key);
- naive search: `icontains` over titles and descriptions with an exact count, what a
  catalog without a search index does;
- naive list: a page of listings with their shop and tags and no select/prefetch (N+1)."""

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render

from catalog.models import Listing

NAIVE_PAGE_SIZE = 20


def hello(request):
    return HttpResponse("hello", content_type="text/plain")


def one_query(request):
    title = Listing.objects.filter(pk=request.GET.get("pk") or 0).values_list("title", flat=True).first()
    return HttpResponse(title or "", content_type="text/plain")


def naive_search(request):
    text = request.GET.get("q", "")
    matched = Listing.objects.filter(status=Listing.Status.ACTIVE).filter(
        Q(title__icontains=text) | Q(description__icontains=text)
    )
    page = matched.select_related("shop").order_by("-published_at", "-pk")
    listings = list(page[: int(request.GET.get("page_size") or 24)])
    return render(request, "bench/naive.html", {"listings": listings, "count": matched.count(), "with_tags": False})


def naive_list(request):
    size = int(request.GET.get("page_size") or NAIVE_PAGE_SIZE)
    listings = Listing.objects.filter(status=Listing.Status.ACTIVE).order_by("-published_at", "-pk")[:size]
    return render(request, "bench/naive.html", {"listings": listings, "count": None, "with_tags": True})
