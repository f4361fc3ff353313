"""Every kind of response carries the security headers: pages, API answers, errors, redirects,
static files; and no template holds an inline script or event-handler attribute."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import ListingFactory
from tests.security.headers import csp_directives, security_header_problems

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search/?q=atlas",
        "/status/",
        "/accounts/login/",
        "/accounts/signup/",
        "/tags/",
        "/api/listings/",
        "/api/status/",
        "/api/docs/",
        "/api/schema/",
        "/no-such-page/",
        "/orders/",  # a redirect to the login page
        "/api/orders/",  # refused: not signed in
        "/static/css/plural.css",
        "/static/icons/plural.svg",
    ],
)
def test_every_kind_of_response_carries_the_security_headers(client, path):
    response = client.get(path)

    assert response.status_code in {200, 302, 401, 403, 404, 503}  # 503: the status page without a worker
    assert security_header_problems(response) == []


def test_a_listing_page_and_a_signed_in_page_carry_them(client, buyer):
    listing = ListingFactory()
    client.force_login(buyer)

    for path in (f"/listings/{listing.pk}/", "/orders/", "/accounts/profile/"):
        response = client.get(path)
        assert response.status_code == 200
        assert security_header_problems(response) == [], path


def test_a_server_error_carries_them(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/api/listings/?page=abc")

    assert security_header_problems(response) == []


def test_the_policy_allows_scripts_and_styles_only_from_our_own_files(client):
    directives = csp_directives(client.get("/"))

    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]


def test_only_the_api_explorer_may_use_inline_styles_and_never_inline_scripts(client):
    directives = csp_directives(client.get("/api/docs/"))

    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["script-src"] == ["'self'"]


@pytest.mark.parametrize("template", sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")))
def test_no_template_holds_inline_script_or_handler(template):
    text = (TEMPLATES / template).read_text()

    assert INLINE_SCRIPT.findall(text) == []
    assert EVENT_HANDLER.findall(text) == []
    # E-mails are not pages: mail readers ignore the site's policy and need inline styles.
    if not template.startswith("notifications/email/"):
        assert STYLE_ATTRIBUTE.findall(text) == []
