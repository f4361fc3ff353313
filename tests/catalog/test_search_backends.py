"""Both search backends are tested in every run: the suite runs on one database, so a run on
PostgreSQL also runs the search tests on SQLite (FTS5), in a process of their own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SEARCH_TESTS = [
    "tests/catalog/test_search_queries.py",
    "tests/catalog/test_search_index.py",
    "tests/catalog/test_search_pages.py",
]


@pytest.mark.skipif(not settings.IS_POSTGRESQL, reason="this run is on SQLite: its search tests ran on SQLite already")
def test_the_search_tests_pass_on_sqlite_too(tmp_path):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "PLURAL_REQUIRE_SERVICES", "PYTEST_ADDOPTS"}
    }
    environment["PLURAL_VAR_DIR"] = str(tmp_path)

    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SEARCH_TESTS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-2000:]
    assert " passed" in finished.stdout.splitlines()[-1]
    assert "failed" not in finished.stdout.splitlines()[-1]
