from django.shortcuts import render

from accounts.selectors import people_search

from .selectors import site_status


def home(request):
    from catalog.selectors import home_sections

    return render(request, "marketplace/home.html", {"sections": home_sections()})


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    people = people_search(query=query) if query else []
    return render(request, "marketplace/search.html", {"query": query, "people": people})


def status_page(request):
    current = site_status()
    response_status = 503 if current.state == "down" else 200
    return render(request, "marketplace/status.html", {"status": current}, status=response_status)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_500(request):
    return render(request, "500.html", status=500)
