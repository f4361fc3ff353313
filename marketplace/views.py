from urllib.parse import urlencode

from django.http import JsonResponse, QueryDict
from django.shortcuts import render

from accounts.selectors import people_search
from sellers.selectors import ShopRequiresMFA

from .selectors import site_status


def home(request):
    from catalog.selectors import home_sections

    return render(request, "marketplace/home.html", {"sections": home_sections()})


def _search_url(params: QueryDict, **changes) -> str:
    """The search page with `params` changed: a value of None removes the parameter, a list
    sets every value; any change starts again from the first page. Built from pairs rather
    than a changed copy of the QueryDict (a deep copy each): a search lists a link for each of
    up to a few hundred categories."""
    pairs: list[tuple[str, str]] = []
    pending = dict(changes)
    for name, values in params.lists():
        if name == "cursor":
            continue
        if name in pending:
            values = pending.pop(name)
            values = [] if values is None else values if isinstance(values, list) else [values]
        pairs += [(name, value) for value in values]
    for name, value in pending.items():
        if value is not None:
            pairs += [(name, each) for each in value] if isinstance(value, list) else [(name, value)]
    return "?" + urlencode(pairs) if pairs else "?"


def _facet_links(facets, params: QueryDict) -> dict:
    """The links of the facets a person follows rather than ticks: categories and price ranges."""
    links: dict = {}
    for facet in facets:
        if facet.name == "category":
            links["category"] = [
                (value, None if value.selected else _search_url(params, category=value.value)) for value in facet.values
            ]
            links["all_categories"] = _search_url(params, category=None)
        elif facet.name == "price":
            links["price"] = []
            for value in facet.values:
                lowest, below = value.value.split("-")
                url = _search_url(params, price_min=lowest or None, price_max=below or None)
                links["price"].append((value, None if value.selected else url))
            links["any_price"] = _search_url(params, price_min=None, price_max=None)
    return links


def search(request):
    """People and listings for what was typed in the header's search box, with facets, sort
    and pagination for the listings (the same parameters as /api/search/)."""
    from catalog import search as catalog_search
    from catalog.selectors import country_choices, viewer_country

    params, errors = catalog_search.parse_search_params(request.GET, max_page_size=catalog_search.PAGE_SIZE)
    query = params.text.strip()
    people = people_search(query=query) if query else []
    results = None
    if query or params.has_filters:
        results = catalog_search.search_listings(params=params, viewer_country=viewer_country(user=request.user))
    context = {"query": query, "people": people, "results": results, "errors": errors, "params": params}
    if results is not None:
        searched = request.GET.copy()
        if results.was_corrected:
            searched["q"] = results.params.text
        context.update(
            facets={facet.name: facet for facet in results.facets},
            facet_links=_facet_links(results.facets, searched),
            sort_choices=catalog_search.SORT_CHOICES,
            sort=params.sort or ("relevance" if params.words else "newest"),
            country_choices=country_choices(),
            next_url=_search_url(searched, cursor=results.next_cursor) if results.next_cursor else None,
            first_url=_search_url(searched) if params.cursor else None,
            close_words=[
                (
                    word,
                    term,
                    _search_url(request.GET, q=" ".join(term if each == word else each for each in params.words)),
                )
                for word, term in results.close_words
            ],
        )
    return render(request, "marketplace/search.html", context)


def status_page(request):
    current = site_status()
    response_status = 503 if current.state == "down" else 200
    return render(request, "marketplace/status.html", {"status": current}, status=response_status)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _api_error(*, status: int, detail: str, code: str) -> JsonResponse:
    # The API's `Error` shape (marketplace.api.exception_handler), for answers Django makes itself.
    return JsonResponse({"detail": detail, "code": code}, status=status)


def error_404(request, exception=None):
    if _is_api(request):
        return _api_error(status=404, detail="Not found.", code="not_found")
    return render(request, "404.html", status=404)


def error_403(request, exception=None):
    if isinstance(exception, ShopRequiresMFA):
        return render(request, "sellers/mfa_required.html", {"shop": exception.shop}, status=403)
    if _is_api(request):
        return _api_error(
            status=403, detail="You do not have permission to perform this action.", code="permission_denied"
        )
    return render(request, "403.html", status=403)


def error_500(request):
    if _is_api(request):
        return _api_error(
            status=500, detail="Something went wrong on our side; it has been logged.", code="server_error"
        )
    return render(request, "500.html", status=500)
