"""Where Plural's own OpenID Connect provider is enabled, its access tokens authenticate API
requests as their person; without `plural:write` they only read; expired, unknown or
revoked ones are refused; and with the provider off they are not accepted at all."""

from datetime import timedelta

import pytest
from allauth.idp.oidc.models import Client, Token
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def signing_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def provider(settings, signing_key):
    settings.IDP_OIDC_PRIVATE_KEY = signing_key
    settings.PLURAL_OIDC_IDP_ENABLED = True


def access_token(user, *, scopes, value="issued-access-token", expires_in=timedelta(hours=1)) -> Token:
    client = Client.objects.create(name="Stock sync", type=Client.Type.CONFIDENTIAL)
    client.set_scopes(["openid", "profile", "plural:write"])
    client.save()
    token = Token(type=Token.Type.ACCESS_TOKEN, client=client, user=user, expires_at=timezone.now() + expires_in)
    token.set_value(value)
    token.set_scopes(scopes)
    token.save()
    return token


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return client


def test_an_access_token_authenticates_as_its_person(provider, buyer):
    access_token(buyer, scopes=["openid", "profile"])

    response = bearer("issued-access-token").get("/api/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "bea"


def test_without_the_write_scope_an_access_token_only_reads(provider, buyer):
    access_token(buyer, scopes=["openid"])

    response = bearer("issued-access-token").patch("/api/me/", {"city": "Lyon"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "token_read_only"
    buyer.refresh_from_db()
    assert buyer.city != "Lyon"


def test_with_the_write_scope_an_access_token_writes(provider, buyer):
    access_token(buyer, scopes=["openid", "plural:write"])

    response = bearer("issued-access-token").patch("/api/me/", {"city": "Lyon"}, format="json")

    assert response.status_code == 200
    buyer.refresh_from_db()
    assert buyer.city == "Lyon"


@pytest.mark.parametrize("case", ["unknown", "expired", "revoked"])
def test_an_unknown_expired_or_revoked_access_token_is_refused(provider, buyer, case):
    token = access_token(
        buyer, scopes=["openid"], expires_in=timedelta(hours=-1) if case == "expired" else timedelta(hours=1)
    )
    if case == "revoked":
        token.delete()

    response = bearer("something-else" if case == "unknown" else "issued-access-token").get("/api/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_with_the_provider_off_access_tokens_are_not_accepted(settings, buyer):
    settings.PLURAL_OIDC_IDP_ENABLED = False
    access_token(buyer, scopes=["openid", "plural:write"])

    response = bearer("issued-access-token").get("/api/me/")

    assert response.status_code == 401  # a credential nobody accepts: challenged, not taken as anonymous
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("enabled", [False, True])
def test_the_schema_offers_the_provider_only_while_it_is_on(settings, signing_key, enabled):
    settings.IDP_OIDC_PRIVATE_KEY = signing_key if enabled else ""
    settings.PLURAL_OIDC_IDP_ENABLED = enabled

    schema = APIClient().get("/api/schema/?format=json").json()

    schemes = schema["components"]["securitySchemes"]
    assert ("openIdConnect" in schemes) is enabled
    assert "apiToken" in schemes
    offered = {
        name for operation in schema["paths"]["/api/me/"].values() for entry in operation["security"] for name in entry
    }
    assert ("openIdConnect" in offered) is enabled
