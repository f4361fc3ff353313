"""The profile page, the public profile and the profile API."""

import os

import pytest
from django.test import Client
from django.test.client import encode_multipart
from django.urls import reverse
from PIL import Image

from accounts.models import User
from tests.factories import UserFactory
from tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db

EDIT_URL = reverse("accounts:profile_edit")
BOUNDARY = "PluralTestBoundary"


def _profile_data(**overrides):
    data = {"display_name": "Bea Baker", "bio": "I collect maps.", "country": "NL", "city": "Utrecht"}
    data.update(overrides)
    return data


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(EDIT_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_profile_edit_saves_fields_and_avatar_sizes(client, buyer):
    client.force_login(buyer)

    response = client.post(EDIT_URL, _profile_data(avatar=upload(image_bytes(size=(640, 480)))))

    assert response.status_code == 302
    buyer.refresh_from_db()
    assert (buyer.display_name, buyer.bio, buyer.country.code, buyer.city) == (
        "Bea Baker",
        "I collect maps.",
        "NL",
        "Utrecht",
    )
    with Image.open(buyer.avatar_small.path) as small, Image.open(buyer.avatar_large.path) as large:
        assert small.size == (64, 64)
        assert large.size == (256, 256)


def test_corrupt_avatar_is_refused_on_the_form_and_nothing_is_saved(client, buyer):
    client.force_login(buyer)
    before = User.objects.values().get(pk=buyer.pk)

    response = client.post(EDIT_URL, _profile_data(avatar=upload(image_bytes()[:150])))

    assert response.status_code == 200
    assert "damaged or incomplete" in " ".join(response.context["form"].errors["avatar"])
    assert User.objects.values().get(pk=buyer.pk) == before
    # What the person typed is still in the form, so nothing they wrote is lost.
    assert b"I collect maps." in response.content


def test_oversized_avatar_is_refused_with_a_clear_message(client, buyer, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 10_000
    client.force_login(buyer)

    response = client.post(EDIT_URL, _profile_data(avatar=upload(image_bytes() + b"\0" * 20_000)))

    assert "larger than" in " ".join(response.context["form"].errors["avatar"])
    buyer.refresh_from_db()
    assert buyer.display_name == "Bea Buyer"


def test_invalid_country_is_refused(client, buyer):
    client.force_login(buyer)

    response = client.post(EDIT_URL, _profile_data(country="XX"))

    assert response.status_code == 200
    assert response.context["form"].errors["country"]
    buyer.refresh_from_db()
    assert buyer.country.code == "GB"


def test_replacing_an_avatar_removes_the_old_files(client, buyer, django_capture_on_commit_callbacks):
    client.force_login(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EDIT_URL, _profile_data(avatar=upload(image_bytes())))
    buyer.refresh_from_db()
    old_path = buyer.avatar_large.path

    with django_capture_on_commit_callbacks(execute=True):
        client.post(EDIT_URL, _profile_data(avatar=upload(image_bytes(color=(0, 0, 255)))))

    buyer.refresh_from_db()
    assert buyer.avatar_large.path != old_path
    assert not os.path.exists(old_path)


def test_public_profile_shows_name_location_and_bio(client):
    person = UserFactory(
        username="amara", display_name="Amara Okafor", city="Accra", country="GH", bio="Jazz <b>records</b>"
    )

    response = client.get(reverse("accounts:profile", kwargs={"username": "amara"}))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Amara Okafor" in content
    assert "Accra, Ghana" in content
    assert "Jazz &lt;b&gt;records&lt;/b&gt;" in content, "the bio is escaped, never rendered as HTML"
    assert person.email not in content, "a public profile never shows the e-mail address"


def test_inactive_or_unknown_people_have_no_profile(client):
    UserFactory(username="gone", is_active=False)

    assert client.get(reverse("accounts:profile", kwargs={"username": "gone"})).status_code == 404
    assert client.get(reverse("accounts:profile", kwargs={"username": "nobody"})).status_code == 404


def test_profile_form_rejects_posts_without_csrf_token(buyer):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(buyer)

    response = csrf_client.post(EDIT_URL, _profile_data())

    assert response.status_code == 403
    buyer.refresh_from_db()
    assert buyer.display_name == "Bea Buyer"


# --- API ------------------------------------------------------------------


def test_api_me_requires_login(client):
    assert client.get("/api/me/").status_code == 403
    assert client.patch("/api/me/", {"city": "X"}, content_type="application/json").status_code == 403


def test_api_me_shows_own_email_and_updates_profile(client, buyer):
    client.force_login(buyer)

    response = client.patch("/api/me/", {"city": "Leiden", "country": "NL"}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["email"] == "bea@example.com"
    assert response.json()["city"] == "Leiden"
    buyer.refresh_from_db()
    assert (buyer.city, buyer.country.code) == ("Leiden", "NL")


def test_api_me_refuses_bad_country_and_changes_nothing(client, buyer):
    client.force_login(buyer)

    response = client.patch("/api/me/", {"city": "Leiden", "country": "ZZ"}, content_type="application/json")

    assert response.status_code == 400
    assert "country" in response.json()
    buyer.refresh_from_db()
    assert buyer.city != "Leiden"


def _multipart_patch(client, data):
    body = encode_multipart(BOUNDARY, data)
    return client.generic("PATCH", "/api/me/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def test_api_me_refuses_a_non_image_avatar_and_changes_nothing(client, buyer):
    client.force_login(buyer)

    refused = _multipart_patch(client, {"avatar": upload(b"not an image"), "display_name": "Changed"})

    assert refused.status_code == 400
    assert "not an image we can read" in refused.json()["avatar"][0]
    buyer.refresh_from_db()
    assert buyer.display_name == "Bea Buyer"
    assert not buyer.avatar_large


def test_api_me_accepts_an_avatar(client, buyer):
    client.force_login(buyer)

    accepted = _multipart_patch(client, {"avatar": upload(image_bytes())})

    assert accepted.status_code == 200
    assert accepted.json()["avatar_large"].endswith(".webp")


def test_api_public_profile_hides_email(client, buyer):
    response = client.get(f"/api/people/{buyer.username}/")

    assert response.status_code == 200
    assert "email" not in response.json()
    assert response.json()["name"] == "Bea Buyer"
    assert client.get("/api/people/nobody/").status_code == 404


def test_people_search_finds_by_name_and_city(client):
    UserFactory(username="amara", display_name="Amara Okafor", city="Accra")
    UserFactory(username="bruno", display_name="Bruno Costa", city="Porto")

    response = client.get(reverse("search"), {"q": "accra"})

    assert [person.username for person in response.context["people"]] == ["amara"]
