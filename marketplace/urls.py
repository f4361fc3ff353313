from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .api import StatusAPIView

api_urlpatterns = [
    path("status/", StatusAPIView.as_view(), name="api-status"),
    path("", include("accounts.api_urls")),
    path("", include("sellers.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("catalog.tag_api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("messaging.api_urls")),
    path("", include("reviews.api_urls")),
    path("", include("social.api_urls")),
    path("", include("catalog.want_api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's own script is served as a file (the split view); its widgets set inline styles.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("status/", views.status_page, name="status"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("sellers.urls")),
    path("", include("sellers.import_urls")),
    path("", include("catalog.urls")),
    path("", include("catalog.tag_urls")),
    path("", include("notifications.urls")),
    path("", include("orders.urls")),
    path("", include("messaging.urls")),
    path("", include("reviews.urls")),
    path("", include("social.urls")),
    path("", include("catalog.want_urls")),
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
]

if settings.PLURAL_OIDC_IDP_ENABLED:
    urlpatterns += [path("", include("allauth.idp.urls"))]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler403 = "marketplace.views.error_403"
handler404 = "marketplace.views.error_404"
handler500 = "marketplace.views.error_500"

# The benchmark's floors and naive baselines (marketplace.bench.views): only while benchmarking.
if settings.PLURAL_BENCH:
    urlpatterns += [path("bench/", include("marketplace.bench.urls"))]
