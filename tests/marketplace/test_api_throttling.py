"""API rate limits: per anonymous IP address, per person (session or token alike) and per scope,
counted in the real cache; the refusal is a JSON 429 with Retry-After."""

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": "1000/minute", "user": "1000/minute", "search": "1000/minute", **rates},
        }

    return set_rates


def assert_throttled(response):
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"]
    assert 1 <= body["retry_after"] <= 60
    assert int(response["Retry-After"]) == body["retry_after"]


def test_anonymous_visitors_are_limited_per_ip_address(rates):
    rates(anon="3/minute")
    here, elsewhere = APIClient(REMOTE_ADDR="203.0.113.7"), APIClient(REMOTE_ADDR="203.0.113.8")

    answers = [here.get("/api/categories/").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert_throttled(here.get("/api/categories/"))
    assert elsewhere.get("/api/categories/").status_code == 200


def test_a_forwarded_for_header_does_not_dodge_the_anonymous_limit(rates):
    rates(anon="2/minute")
    client = APIClient(REMOTE_ADDR="203.0.113.7")

    for number in range(2):
        assert client.get("/api/categories/", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}").status_code == 200

    assert_throttled(client.get("/api/categories/", HTTP_X_FORWARDED_FOR="198.51.100.99"))


def test_a_person_is_limited_across_session_and_tokens_but_not_others(rates, buyer, other_buyer):
    rates(user="4/minute", anon="1/minute")
    session = APIClient()
    session.force_login(buyer)
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=buyer, name="t", scope="read").secret)
    other = APIClient()
    other.force_login(other_buyer)

    answers = [client.get("/api/me/").status_code for client in (session, token, session, token)]

    assert answers == [200, 200, 200, 200]  # well above the anonymous rate
    assert_throttled(session.get("/api/me/"))
    assert_throttled(token.get("/api/me/"))
    assert other.get("/api/me/").status_code == 200


def test_search_has_its_own_lower_limit(rates, buyer):
    rates(search="2/minute")
    client = APIClient()
    client.force_login(buyer)

    assert [client.get("/api/search/?q=moon").status_code for _ in range(2)] == [200, 200]

    assert_throttled(client.get("/api/search/?q=moon"))
    assert client.get("/api/categories/").status_code == 200  # other endpoints still answer


def test_the_schema_documents_429_with_retry_after():
    schema = APIClient().get("/api/schema/?format=json").json()

    answer = schema["paths"]["/api/listings/"]["get"]["responses"]["429"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}
