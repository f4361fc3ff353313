"""The settings module read in fresh processes with controlled environments."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "PLURAL_ENV": "production",
    "SECRET_KEY": "x" * 20 + "-production-secret-key-for-tests-only-0123456789",
    "ALLOWED_HOSTS": "plural.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
}
SETTINGS_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "email": settings.EMAIL_BACKEND,
    "email_path": str(getattr(settings, "EMAIL_FILE_PATH", "")),
    "secure_cookies": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "secret_length": len(settings.SECRET_KEY),
    "base_url": settings.PLURAL_BASE_URL,
    "mail_domain": settings.PLURAL_MAIL_DOMAIN,
}))
"""


def _run(args, env_overrides, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PLURAL_", "DATABASE_", "REDIS_"))}
    env.pop("EMAIL_URL", None)
    env.pop("SECRET_KEY", None)
    env.update({"PLURAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "marketplace.settings"})
    env.update(env_overrides)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def _probe(env_overrides, tmp_path) -> dict:
    result = _run([sys.executable, "-c", SETTINGS_PROBE], env_overrides, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_variables_runs_embedded(tmp_path):
    probe = _probe({}, tmp_path)

    assert probe["debug"] is True
    assert probe["engine"] == "django.db.backends.sqlite3"
    assert probe["db_name"] == str(tmp_path / "plural.sqlite3")
    assert probe["eager"] is True
    assert probe["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert probe["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert probe["email_path"] == str(tmp_path / "mail")
    assert probe["secret_length"] >= 50
    assert (probe["base_url"], probe["mail_domain"]) == ("http://127.0.0.1:8000", "plural.localhost")


def test_generated_development_secret_is_kept_between_starts(tmp_path):
    first = (_probe({}, tmp_path), (tmp_path / "dev_secret_key").read_text())
    second = (_probe({}, tmp_path), (tmp_path / "dev_secret_key").read_text())

    assert first[1] == second[1]


def test_production_variables_switch_every_service(tmp_path):
    probe = _probe(PRODUCTION_ENV, tmp_path)

    assert probe["debug"] is False
    assert probe["engine"] == "django.db.backends.postgresql"
    assert probe["eager"] is False
    assert probe["broker"] == "redis://127.0.0.1:6379/0"
    assert probe["cache"] == "django_redis.cache.RedisCache"
    assert probe["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert probe["secure_cookies"] is True
    assert probe["hsts"] >= 31_536_000
    # links in e-mails lead to the public host, not to the embedded default
    assert (probe["base_url"], probe["mail_domain"]) == ("https://plural.example.org", "plural.example.org")


def test_production_deploy_check_prints_no_warning(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL", "EMAIL_URL"])
def test_production_refuses_to_start_without_required_variable(tmp_path, missing):
    env = {**PRODUCTION_ENV, missing: ""}

    result = _run([sys.executable, "manage.py", "check"], env, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


PROVIDERS_PROBE = """
import django
from django.conf import settings
from django.urls import NoReverseMatch, reverse
django.setup()
for provider in ("google", "github"):
    try:
        print(provider, reverse(f"{provider}_login"))
    except NoReverseMatch:
        print(provider, "-")
"""


def test_only_configured_oauth_providers_are_installed_and_offer_a_login_address(tmp_path):
    result = _run([sys.executable, "-c", PROVIDERS_PROBE], {"PLURAL_GITHUB_CLIENT_ID": "plural-id"}, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-3:] == ["google -", "github /accounts/github/login/", ""]
