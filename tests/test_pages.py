"""Site-wide layout: landmarks, error pages, and the API schema."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import path

from marketplace.urls import urlpatterns as site_urlpatterns

pytestmark = pytest.mark.django_db


def _forbidden(request):
    raise PermissionDenied


def _broken(request):
    raise RuntimeError("boom")


urlpatterns = [
    *site_urlpatterns,
    path("test-forbidden/", _forbidden),
    path("test-broken/", _broken),
]
handler403 = "marketplace.views.error_403"
handler404 = "marketplace.views.error_404"
handler500 = "marketplace.views.error_500"


def test_base_layout_has_landmarks_skip_link_and_labelled_search(client):
    content = client.get("/").content.decode()

    for landmark in ('<header class="site-header">', '<main id="main"', "<footer", 'role="search"'):
        assert landmark in content
    assert '<a class="skip-link" href="#main">' in content
    assert '<label for="site-search-q"' in content
    assert '<html lang="en">' in content


def test_account_menu_differs_for_visitors_and_members(client, buyer):
    visitor_page = client.get("/").content.decode()
    client.force_login(buyer)
    member_page = client.get("/").content.decode()

    assert "Log in" in visitor_page and "Log out" not in visitor_page
    assert "Log out" in member_page and "Bea Buyer" in member_page
    assert 'href="/shops/new/">Your shops</a>' in member_page and "Your shops" not in visitor_page


def test_flash_messages_are_shown_once(client, buyer):
    client.force_login(buyer)

    saved = client.post("/accounts/profile/", {"display_name": "Bea", "country": "", "city": ""}, follow=True)
    again = client.get("/accounts/profile/")

    assert "Your profile has been saved." in saved.content.decode()
    assert "Your profile has been saved." not in again.content.decode()


@pytest.mark.urls("tests.test_pages")
def test_error_pages_use_the_product_layout(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    not_found = client.get("/no-such-page/")
    forbidden = client.get("/test-forbidden/")
    broken = client.get("/test-broken/")

    assert not_found.status_code == 404
    assert "We could not find that page" in not_found.content.decode()
    assert forbidden.status_code == 403
    assert "You are not allowed to do that" in forbidden.content.decode()
    assert broken.status_code == 500
    assert "Something went wrong on our side" in broken.content.decode()
    assert "boom" not in broken.content.decode()


def test_openapi_schema_builds_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/status/" in schema
    assert "/api/me/" in schema


def test_api_docs_are_served_without_third_party_hosts(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert "cdn.jsdelivr.net" not in response.content.decode()
