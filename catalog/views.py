"""The shopper's pages of the catalog: listings, works (the price comparator) and categories."""

from django.shortcuts import redirect, render

from social import recommendations
from social.views import listing_social_context, work_social_context

from . import counters, selectors
from .counters import CountedPaginator

CATEGORY_PAGE_SIZE = 24


def _country_context(request, country: str | None) -> dict:
    return {
        "country": country,
        "country_name": selectors.country_name(country),
    }


def listing_detail(request, pk: int):
    listing = selectors.access_listing_for_view(user=request.user, pk=pk)
    return render_listing_page(request, listing, is_visit=True)


def render_listing_page(request, listing, *, tag_form=None, status: int = 200, is_visit: bool = False):
    """The listing page; `tag_form` is a refused add-tag form to show again with what was typed.
    A visit (not a form shown again) of a shopper counts as looking at it, for recommendations."""
    country = selectors.viewer_country(user=request.user, requested=request.GET.get("country"))
    page = selectors.listing_page(listing=listing, user=request.user, country=country)
    if is_visit and page.is_public and not page.viewer_is_shop_person:
        recommendations.view_record(user=request.user, listing=listing)
    context = {"page": page, "listing": listing, "shop": listing.shop, **_country_context(request, country)}
    context |= listing_social_context(request, listing=listing)
    if tag_form is not None:
        context["tag_form"] = tag_form
    return render(request, "catalog/listing_detail.html", context, status=status)


def work_detail(request, pk: int):
    work = selectors.access_work(pk=pk)
    if work.merged_into_id:
        return redirect(work.merged_into, permanent=True)
    country = selectors.viewer_country(user=request.user, requested=request.GET.get("country"))
    comparison = selectors.work_comparison(work=work, country=country, currency=request.GET.get("currency"))
    recommendations.view_record(user=request.user, work=work)
    context = {"work": work, "comparison": comparison, **_country_context(request, country)}
    context |= work_social_context(request, work=work)
    return render(request, "catalog/work_detail.html", context)


def category_index(request):
    tree = selectors.category_tree()
    return render(request, "catalog/category_index.html", {"tree": tree, "nodes": list(tree.walk())})


def category_detail(request, pk: int, slug: str):
    page = selectors.category_page(pk=pk)
    if slug != page.category.slug:
        return redirect(page.category.url, permanent=True)
    category_ids = page.tree.descendant_ids(page.category.id)
    listings = selectors.listings_in_categories(category_ids=category_ids)
    # Counted from the maintained counts: counting the 50,000 active listings of the biggest
    # category took 140 ms of its page at 1,000,000 listings.
    paginator = CountedPaginator(
        listings, CATEGORY_PAGE_SIZE, count=counters.active_listings_in_categories(category_ids=category_ids)
    )
    listing_page = paginator.get_page(request.GET.get("page"))
    listing_page.object_list = selectors.attach_card_tags(list(listing_page.object_list))
    context = {"page": page, "category": page.category, "listing_page": listing_page}
    return render(request, "catalog/category_detail.html", context)
