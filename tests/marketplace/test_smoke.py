import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/search/?q=x"])
def test_public_pages_answer(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b"<main" in response.content
