"""The site's addresses with the benchmark's floors under /bench/, for the in-process
measurements (the served site mounts them only with PLURAL_BENCH on)."""

from django.conf import settings
from django.urls import include, path

from marketplace import urls as site

urlpatterns = list(site.urlpatterns)
if not settings.PLURAL_BENCH:
    urlpatterns.insert(0, path("bench/", include("marketplace.bench.urls")))
handler403 = site.handler403
handler404 = site.handler404
handler500 = site.handler500
