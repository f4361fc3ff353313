"""The interactive API docs in the real browser: every operation of the schema is on the page,
and a personal token can be entered to try them."""

import json

import pytest
from django.test import Client

from tests.e2e.conftest import from_database

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

METHODS = {"get", "post", "put", "patch", "delete"}


def schema_operations() -> set[tuple[str, str]]:
    schema = json.loads(Client().get("/api/schema/?format=json").content)
    return {(method, path) for path, item in schema["paths"].items() for method in item if method in METHODS}


def test_the_docs_page_renders_every_operation_of_the_schema(page):
    expected = from_database(schema_operations)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    shown = page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(block => [
            block.querySelector('.opblock-summary-method').textContent.trim().toLowerCase(),
            block.querySelector('.opblock-summary-path').getAttribute('data-path'),
        ])""",
    )

    assert errors == []
    assert len(expected) > 150
    assert {tuple(pair) for pair in shown} == expected
    assert len(shown) == len(expected)  # each once
    # The token scheme is offered for "Authorize".
    page.get_by_role("button", name="Authorize").first.click()
    assert page.get_by_text("apiToken").first.is_visible()
