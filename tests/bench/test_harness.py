"""The benchmark harness on a tiny generated marketplace, so that it cannot rot: the
assertions are on query counts and ratios, never on milliseconds."""

import json

import pytest
from django.test import Client, override_settings

from marketplace.bench import generate, harness

pytestmark = pytest.mark.django_db

PAGES = {"home", "search: rare", "search: most common", "storefront", "thread of 50 messages", "feed (2,000 followed)"}


@pytest.fixture
def tiny_marketplace():
    generate.generate(size=generate.custom_size(listings=400, shops=8, users=60), seed=3)


def test_tiny_run_measures_pages_against_floors_of_the_same_run(tiny_marketplace, settings, tmp_path):
    settings.VAR_DIR = tmp_path

    report = harness.run(
        harness.Options(size="tiny", rounds=2, naive_rounds=1, with_http=False, with_background=False, only=PAGES)
    )

    results = {result["name"]: result for result in report["results"]}
    assert set(results) == PAGES | {
        "floor: hello",
        "floor: one indexed query",
        "naive: icontains most common",
        "naive: icontains rare",
    }
    assert results["floor: hello"]["queries"] == 0 and results["floor: one indexed query"]["queries"] == 1
    for name in PAGES:
        page = results[name]
        assert page["status"] == 200, name
        assert page["queries"] <= harness.MAX_QUERIES, name
        assert page["queries_second_size"] in (None, page["queries"]), name
        assert page["inprocess_ratio"] > 0 and page["checks"]["queries"], name
    assert results["search: rare"]["speedup_over_naive"] > 0
    markdown_path, json_path = harness.write_report(report)
    assert "| home |" in markdown_path.read_text()
    assert json.loads(json_path.read_text())["size"] == "tiny"


def test_naive_list_shows_the_n_plus_one_the_pages_avoid(tiny_marketplace):
    with override_settings(ROOT_URLCONF="marketplace.bench.root_urls"):
        cast = harness.find_cast()
        actors = harness.Actors(cast)
        naive = next(e for e in harness.endpoints(cast) if e.name == "naive: list without select/prefetch")
        queries, at_fifty, status = harness._count_queries(actors, naive)

    assert status == 200
    assert (queries, at_fifty) == (1 + 2 * 10, 1 + 2 * 50)


def test_floor_endpoints_exist_only_when_benchmarking():
    assert Client().get("/bench/hello/").status_code == 404
    with override_settings(ROOT_URLCONF="marketplace.bench.root_urls"):
        assert Client().get("/bench/hello/").content == b"hello"


def test_the_also_bought_rebuild_is_measured_and_reported(tiny_marketplace):
    from social.models import ItemPair, PersonItem

    measured = harness.measure_also_bought_rebuild()

    assert measured["pairs"] == ItemPair.objects.count() > 0
    assert measured["purchases"] == PersonItem.objects.filter(purchase_number__isnull=False).count()
    report = {
        "size": "tiny",
        "database": "any",
        "taken_at": "now",
        "machine": {"cpus": 2, "memory": "", "python": ""},
        "catalog": {"listings": 0, "shops": 0, "people": 0},
        "search_terms": {},
        "results": [],
        "background": {"also-bought rebuild": measured},
    }
    assert f"| also-bought rebuild | purchases {measured['purchases']}, pairs {measured['pairs']}," in (
        harness.markdown(report)
    )
