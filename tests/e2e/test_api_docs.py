"""The interactive API docs in the real browser: every operation of the schema is drawn on the
page, without a script error, and the personal-token scheme is offered under Authorize."""

import json

import pytest
from django.test import Client

from tests.e2e.conftest import from_database

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

METHODS = {"get", "post", "put", "patch", "delete"}
DRAWN_OPERATIONS = """() => Array.from(document.querySelectorAll('.opblock')).map(block => [
    block.querySelector('.opblock-summary-method').textContent.trim().toLowerCase(),
    block.querySelector('.opblock-summary-path').getAttribute('data-path'),
])"""
SCROLL_DOWN = """() => {
    window.scrollBy(0, Math.floor(window.innerHeight * 0.8));
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 2;
}"""


def schema_operations() -> set[tuple[str, str]]:
    schema = json.loads(Client().get("/api/schema/?format=json").content)
    return {(method, path) for path, item in schema["paths"].items() for method in item if method in METHODS}


def test_the_docs_page_draws_every_operation_of_the_schema(page):
    expected = from_database(schema_operations)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/api/docs/")
    page.wait_for_selector(".opblock", timeout=20_000)
    # Swagger UI keeps only the sections in view in the page: scroll through it, noting each one drawn.
    drawn: set[tuple[str, str]] = set()
    for _ in range(1000):
        page.wait_for_timeout(100)
        drawn |= {tuple(pair) for pair in page.evaluate(DRAWN_OPERATIONS)}
        if drawn >= expected or page.evaluate(SCROLL_DOWN):
            page.wait_for_timeout(300)
            drawn |= {tuple(pair) for pair in page.evaluate(DRAWN_OPERATIONS)}
            break

    assert errors == []
    assert len(expected) > 150
    assert expected - drawn == set()
    assert drawn - expected == set()
    page.evaluate("() => window.scrollTo(0, 0)")
    page.get_by_role("button", name="Authorize").first.click()
    assert page.get_by_text("apiToken (http, Bearer)").is_visible()
