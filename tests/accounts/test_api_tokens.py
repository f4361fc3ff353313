"""Personal API tokens: made, listed and revoked from the settings page and the API; only a
hash is kept; a token authenticates as its person, a read token only reads, a revoked or
unknown token is refused, and nobody touches another person's tokens."""

import hashlib

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def bearer(secret: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def test_settings_page_makes_a_token_shows_its_secret_once_and_keeps_only_a_hash(client, buyer):
    client.force_login(buyer)

    response = client.post("/accounts/tokens/", {"name": "stock sync", "scope": "write"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=buyer)
    assert (token.name, token.scope, token.revoked_at) == ("stock sync", "write", None)
    secret = response.context["new_token"].secret
    assert secret.startswith("plural_") and secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.objects.values()))
    # Shown once: the list page afterwards has only the prefix.
    listing = client.get("/accounts/tokens/").content.decode()
    assert secret not in listing and token.prefix in listing and "stock sync" in listing


def test_settings_page_refuses_a_token_without_a_name_and_keeps_the_choice(client, buyer):
    client.force_login(buyer)

    response = client.post("/accounts/tokens/", {"name": "  ", "scope": "write"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert response.context["form"]["scope"].value() == "write"
    assert not ApiToken.objects.exists()


def test_settings_page_needs_a_signed_in_person(client):
    response = client.get("/accounts/tokens/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_revoking_from_the_settings_page_stops_the_token(client, buyer):
    created = api_token_create(user=buyer, name="laptop", scope="read")
    client.force_login(buyer)

    response = client.post(f"/accounts/tokens/{created.token.pk}/revoke/")

    assert response.status_code == 302
    created.token.refresh_from_db()
    assert created.token.revoked_at is not None
    assert bearer(created.secret).get("/api/me/").status_code == 401


def test_nobody_revokes_another_persons_token_from_the_page(client, buyer, other_buyer):
    created = api_token_create(user=buyer, name="laptop", scope="read")
    client.force_login(other_buyer)

    response = client.post(f"/accounts/tokens/{created.token.pk}/revoke/")

    assert response.status_code == 404
    created.token.refresh_from_db()
    assert created.token.revoked_at is None


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_token_authenticates_as_its_person_and_records_its_use(buyer, keyword):
    created = api_token_create(user=buyer, name="script", scope="read")

    response = bearer(created.secret, keyword).get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "bea"
    created.token.refresh_from_db()
    assert created.token.last_used_at is not None


@pytest.mark.parametrize(
    "secret", ["plural_not-a-real-token", "plural_", "plural_a plural_b"], ids=["unknown", "empty", "two parts"]
)
def test_an_unknown_token_is_refused_with_401_and_a_challenge(buyer, secret):
    api_token_create(user=buyer, name="script", scope="write")

    response = bearer(secret).get("/api/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"]


def test_a_revoked_token_is_refused(buyer):
    created = api_token_create(user=buyer, name="script", scope="write")
    api_token_revoke(user=buyer, token_id=created.token.pk)

    response = bearer(created.secret).get("/api/me/")

    assert response.status_code == 401


def test_a_deactivated_persons_token_is_refused(buyer):
    created = api_token_create(user=buyer, name="script", scope="write")
    buyer.is_active = False
    buyer.save()

    assert bearer(created.secret).get("/api/me/").status_code == 401


def test_a_read_token_cannot_write(buyer):
    created = api_token_create(user=buyer, name="dashboard", scope="read")

    response = bearer(created.secret).patch("/api/me/", {"city": "Lyon"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "token_read_only"
    buyer.refresh_from_db()
    assert buyer.city != "Lyon"


def test_a_write_token_writes_without_a_csrf_token(buyer):
    created = api_token_create(user=buyer, name="sync", scope="write")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")

    response = client.patch("/api/me/", {"city": "Lyon"}, format="json")

    assert response.status_code == 200
    buyer.refresh_from_db()
    assert buyer.city == "Lyon"


def test_api_lists_makes_and_revokes_own_tokens(buyer, other_buyer):
    api_token_create(user=other_buyer, name="theirs", scope="write")
    client = APIClient()
    client.force_login(buyer)

    made = client.post("/api/me/tokens/", {"name": "ci", "scope": "write"}, format="json")

    assert made.status_code == 201
    body = made.json()
    assert body["secret"].startswith("plural_") and body["scope"] == "write" and body["is_active"] is True
    listed = client.get("/api/me/tokens/").json()
    assert [token["name"] for token in listed["results"]] == ["ci"]
    assert "secret" not in listed["results"][0]

    revoked = client.delete(f"/api/me/tokens/{body['id']}/")

    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert bearer(body["secret"]).get("/api/me/").status_code == 401


def test_api_does_not_revoke_another_persons_token(buyer, other_buyer):
    theirs = api_token_create(user=other_buyer, name="theirs", scope="write")
    client = APIClient()
    client.force_login(buyer)

    response = client.delete(f"/api/me/tokens/{theirs.token.pk}/")

    assert response.status_code == 404
    theirs.token.refresh_from_db()
    assert theirs.token.revoked_at is None


def test_a_token_cannot_make_or_revoke_tokens(buyer):
    created = api_token_create(user=buyer, name="sync", scope="write")
    client = bearer(created.secret)

    assert client.post("/api/me/tokens/", {"name": "more"}, format="json").status_code == 403
    assert client.delete(f"/api/me/tokens/{created.token.pk}/").status_code == 403
    assert ApiToken.objects.filter(user=buyer, revoked_at__isnull=True).count() == 1


def test_the_api_refuses_a_token_without_a_name(buyer):
    client = APIClient()
    client.force_login(buyer)

    response = client.post("/api/me/tokens/", {"name": "", "scope": "read"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
    assert not ApiToken.objects.exists()


def test_anonymous_cannot_list_tokens():
    response = APIClient().get("/api/me/tokens/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_token_list_query_count_does_not_grow(buyer, django_assert_num_queries):
    for number in range(5):
        api_token_create(user=buyer, name=f"token {number}", scope="read")
    created = api_token_create(user=buyer, name="reader", scope="read")
    client = bearer(created.secret)
    client.get("/api/me/tokens/")  # records the first use

    with django_assert_num_queries(3):  # token with person, count, page
        response = client.get("/api/me/tokens/")

    assert response.json()["count"] == 6
