"""Every API error, from DRF or from Django itself, comes in one of the two documented shapes:
`Error` ({detail, code}) or, for 400, `ValidationError` (field errors)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def test_unknown_api_address_is_a_json_404():
    response = APIClient().get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_missing_object_is_a_json_404():
    response = APIClient().get("/api/listings/999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_a_405_error():
    response = APIClient().delete("/api/categories/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.', "code": "method_not_allowed"}


def test_anonymous_write_is_a_403_error():
    response = APIClient().patch("/api/me/", {"city": "Lyon"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_bad_token_is_a_401_error():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer plural_nope")

    response = client.get("/api/me/")

    assert response.status_code == 401
    assert response.json() == {"detail": "The token is not valid, or was revoked.", "code": "authentication_failed"}


def test_session_write_without_csrf_is_a_403_error(buyer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)

    response = client.patch("/api/me/", '{"city": "Lyon"}', content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["detail"].startswith("CSRF Failed")


def test_body_that_does_not_parse_is_a_400_with_field_errors(buyer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + api_token_create(user=buyer, name="t", scope="write").secret)

    response = client.patch("/api/me/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert response.json()["non_field_errors"][0].startswith("JSON parse error")


def test_refused_input_is_a_400_with_field_errors(buyer):
    client = APIClient()
    client.force_login(buyer)

    response = client.post("/api/me/tokens/", {"name": "   "}, format="json")

    assert response.status_code == 400
    assert response.json() == {"name": ["This field may not be blank."]}


def test_every_operation_documents_the_error_shapes():
    schema = APIClient().get("/api/schema/?format=json").json()

    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "403", "404", "429"} <= set(responses), (method, path)
            assert responses["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ValidationError"
            }
