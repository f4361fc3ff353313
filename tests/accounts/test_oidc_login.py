"""Logging in to Plural through an OpenID Connect provider.

The provider is real: a second Django project (tests/oidc_provider) built on
allauth's own identity provider, started as its own process on 127.0.0.1.
Plural runs in pytest-django's live server on "localhost", so the two sites
never share cookies, and the browser is a ``requests.Session`` that follows
both sites' pages, forms and redirects over real HTTP.
"""

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.models import User
from marketplace.settings import BASE_DIR, _social_providers

PROVIDER_ID = "plural-test-idp"
PROVIDER_NAME = "Test Identity Provider"
OTHER_PROVIDERS = ("GOOGLE", "GITHUB", "GITLAB", "MICROSOFT")
HTTP_TIMEOUT = 10


# --- A small browser: pages, links and forms over requests ----------------


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def names(self) -> set[str]:
        return {name for name, _ in self.fields}


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []
        self._form: Form | None = None
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(action=attr.get("action", ""), method=attr.get("method", "get").lower())
            self.forms.append(self._form)
        elif tag == "a" and "href" in attr:
            self._link = (attr["href"], [])
        elif self._form is None or "name" not in attr:
            return
        elif tag == "button" or (tag == "input" and attr.get("type") in {"submit", "image"}):
            self._form.buttons.append((attr["name"], attr.get("value", "")))
        elif tag == "input" and (attr.get("type") not in {"checkbox", "radio"} or "checked" in attr):
            # Unchecked boxes are not submitted.
            self._form.fields.append((attr["name"], attr.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "a" and self._link is not None:
            href, text = self._link
            self.links.append((href, " ".join("".join(text).split())))
            self._link = None

    def handle_data(self, data):
        if self._link is not None:
            self._link[1].append(data)


class Page:
    def __init__(self, response: requests.Response, status: int = 200) -> None:
        assert response.status_code == status, f"{response.status_code} from {response.url}:\n{response.text[:2000]}"
        self.response = response
        self.url = response.url
        self.text = response.text
        parser = _PageParser()
        parser.feed(response.text)
        self.forms = parser.forms
        self.links = parser.links

    def link_named(self, text: str) -> str:
        hrefs = [href for href, link_text in self.links if link_text == text]
        assert len(hrefs) == 1, f"expected one link {text!r} on {self.url}, found {self.links}"
        return urljoin(self.url, hrefs[0])

    def post_form(self, with_field: str) -> Form:
        forms = [form for form in self.forms if form.method == "post" and with_field in form.names()]
        assert len(forms) == 1, f"expected one POST form with {with_field!r} on {self.url}:\n{self.text[:3000]}"
        return forms[0]

    def submit(
        self, browser: requests.Session, form: Form, values: dict | None = None, button: str | None = None
    ) -> requests.Response:
        values = values or {}
        data = [(name, value) for name, value in form.fields if name not in values]
        data += list(values.items())
        if button is not None:
            data += [pair for pair in form.buttons if pair == ("action", button)]
            assert ("action", button) in data, f"no {button!r} button in {form}"
        return browser.post(
            urljoin(self.url, form.action or self.url), data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
        )


def follow(browser: requests.Session, response: requests.Response, stop_before: str = "") -> requests.Response:
    """Follow redirects one by one; stop at a redirect to a URL starting with ``stop_before``."""
    for _ in range(10):
        if not response.is_redirect:
            return response
        location = urljoin(response.url, response.headers["Location"])
        if stop_before and location.startswith(stop_before):
            return response
        response = browser.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
    pytest.fail(f"redirect loop at {response.url}")


# --- The provider process --------------------------------------------------


@dataclass(frozen=True)
class OIDCProvider:
    url: str
    client_id: str
    client_secret: str
    username: str
    email: str
    password: str
    callback_url: str

    def plural_config(self) -> list[dict]:
        """PLURAL_OIDC_PROVIDERS as an operator would write it."""
        return [
            {
                "id": PROVIDER_ID,
                "name": PROVIDER_NAME,
                "server_url": self.url,
                "client_id": self.client_id,
                "secret": self.client_secret,
            }
        ]


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _wait_for_port(process: subprocess.Popen, port_file: Path, log_file: Path, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_file.exists():
            return int(port_file.read_text())
        if process.poll() is not None:
            pytest.fail(f"the OIDC provider exited with {process.returncode}:\n{log_file.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"the OIDC provider did not start within {timeout} s:\n{log_file.read_text()}")


@pytest.fixture(scope="module")
def oidc_provider(live_server, tmp_path_factory):
    """allauth's OIDC identity provider, running as a separate process."""
    data_dir = tmp_path_factory.mktemp("oidc_provider")
    port_file, log_file = data_dir / "port", data_dir / "server.log"
    callback_path = reverse("openid_connect_callback", kwargs={"provider_id": PROVIDER_ID})
    provider = {
        "client_id": f"plural-{secrets.token_hex(4)}",
        "client_secret": secrets.token_urlsafe(32),
        "username": "ada",
        "email": "ada.lovelace@example.org",
        "password": secrets.token_urlsafe(16),
        "callback_url": f"{live_server.url}{callback_path}",
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "PYTHONPATH": str(BASE_DIR),
        "OIDC_PROVIDER_DATA_DIR": str(data_dir),
        "OIDC_PROVIDER_SECRET_KEY": secrets.token_urlsafe(50),
        "OIDC_PROVIDER_PRIVATE_KEY": _private_key_pem(),
    }
    command = [sys.executable, "-m", "tests.oidc_provider.serve", "--port-file", str(port_file)]
    for option in ("client_id", "client_secret", "username", "email", "password"):
        command += [f"--{option.replace('_', '-')}", provider[option]]
    command += ["--redirect-uri", provider["callback_url"]]

    with log_file.open("wb") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = _wait_for_port(process, port_file, log_file)
        url = f"http://127.0.0.1:{port}"
        discovery = requests.get(f"{url}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
        assert discovery.status_code == 200, log_file.read_text()
        assert discovery.json()["issuer"] == url
        yield OIDCProvider(url=url, **provider)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def plural_with_provider(oidc_provider, settings, monkeypatch):
    """Plural configured for the provider the way production is: PLURAL_OIDC_PROVIDERS."""
    for name in OTHER_PROVIDERS:
        monkeypatch.delenv(f"PLURAL_{name}_CLIENT_ID", raising=False)
    monkeypatch.setenv("PLURAL_OIDC_PROVIDERS", json.dumps(oidc_provider.plural_config()))
    settings.SOCIALACCOUNT_PROVIDERS = _social_providers()
    return oidc_provider


@pytest.fixture
def browser():
    with requests.Session() as session:
        session.trust_env = False  # no proxies, no .netrc
        yield session


def _authorize_at_provider(browser, live_server, provider: OIDCProvider) -> requests.Response:
    """From Plural's login page through the provider's login and consent,
    up to (not including) the provider's redirect back to Plural's callback."""
    login_page = Page(browser.get(f"{live_server.url}{reverse('account_login')}", timeout=HTTP_TIMEOUT))
    provider_link = login_page.link_named(PROVIDER_NAME)
    assert urlsplit(provider_link).path == reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})

    # SOCIALACCOUNT_LOGIN_ON_GET is off: the link shows a form that POSTs with CSRF.
    confirm_page = Page(browser.get(provider_link, timeout=HTTP_TIMEOUT))
    response = confirm_page.submit(browser, confirm_page.post_form(with_field="csrfmiddlewaretoken"))
    assert response.status_code == 302
    authorize_url = response.headers["Location"]
    assert authorize_url.startswith(f"{provider.url}/identity/o/authorize?")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["client_id"] == [provider.client_id]
    assert query["redirect_uri"] == [provider.callback_url]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) == {"openid", "profile", "email"}
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0]

    # Not logged in at the provider yet: it sends the person to its login page.
    provider_login = Page(follow(browser, response))
    assert provider_login.url.startswith(f"{provider.url}/accounts/login/")
    response = provider_login.submit(
        browser,
        provider_login.post_form(with_field="login"),
        {"login": provider.username, "password": provider.password},
    )
    consent = Page(follow(browser, response, stop_before=provider.callback_url))
    assert "Authorize Plural" in consent.text
    response = consent.submit(browser, consent.post_form(with_field="request"), button="grant")
    response = follow(browser, response, stop_before=provider.callback_url)
    assert response.is_redirect
    callback = response.headers["Location"]
    assert callback.startswith(f"{provider.callback_url}?"), callback
    assert {"code", "state"} <= set(parse_qs(urlsplit(callback).query))
    return response


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- End to end ------------------------------------------------------------


def test_person_logs_in_through_the_oidc_provider(plural_with_provider, live_server, browser):
    provider = plural_with_provider
    response = _authorize_at_provider(browser, live_server, provider)

    page = Page(follow(browser, response))
    if urlsplit(page.url).path == reverse("socialaccount_signup"):
        form = page.post_form(with_field="username")
        values = dict(form.fields)
        page = Page(
            follow(
                browser,
                page.submit(
                    browser,
                    form,
                    {"email": values.get("email") or provider.email, "username": values.get("username") or "ada"},
                ),
            )
        )

    user = User.objects.get(email=provider.email)
    social = SocialAccount.objects.get(user=user)
    assert social.provider == PROVIDER_ID
    assert social.extra_data["userinfo"]["email"] == provider.email
    assert social.extra_data["id_token"]["iss"] == provider.url
    assert EmailAddress.objects.get(user=user).email == provider.email

    assert page.url == f"{live_server.url}{reverse('home')}"
    assert "Log out" in page.text
    assert reverse("accounts:profile", kwargs={"username": user.username}) in page.text
    # Each site kept its own session under its own host name and cookie name.
    sessions = {cookie.name for cookie in browser.cookies}
    assert {"sessionid", "oidc_provider_sessionid"} <= sessions


@pytest.mark.parametrize("attack", ["forged state", "callback replayed in another browser"])
def test_tampered_callback_logs_nobody_in(attack, plural_with_provider, live_server, browser):
    provider = plural_with_provider
    callback = _authorize_at_provider(browser, live_server, provider).headers["Location"]

    if attack == "forged state":
        victim = browser
        callback = _with_query(callback, state=secrets.token_urlsafe(12))
    else:
        # A login-CSRF attempt: the genuine code and state, in a browser that
        # never started this login.
        victim = requests.Session()
        victim.trust_env = False

    with victim:
        page = Page(follow(victim, victim.get(callback, allow_redirects=False, timeout=HTTP_TIMEOUT)), status=401)
        assert "Third-Party Login Failure" in page.text
        assert "Log out" not in page.text
        home = Page(victim.get(f"{live_server.url}{reverse('home')}", timeout=HTTP_TIMEOUT))
        assert "Log out" not in home.text

    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


# --- The login page without a live provider --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("configured", [True, False])
def test_login_page_lists_providers_only_when_configured(configured, client, settings, monkeypatch):
    for name in OTHER_PROVIDERS:
        monkeypatch.delenv(f"PLURAL_{name}_CLIENT_ID", raising=False)
    entries = [{"id": PROVIDER_ID, "name": PROVIDER_NAME, "server_url": "https://id.example.org", "client_id": "c"}]
    monkeypatch.setenv("PLURAL_OIDC_PROVIDERS", json.dumps(entries if configured else []))
    settings.SOCIALACCOUNT_PROVIDERS = _social_providers()

    html = client.get(reverse("account_login")).content.decode()

    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    assert (PROVIDER_NAME in html) is configured
    assert (login_url in html) is configured
    assert ("Or use a third-party" in html) is configured
    assert ("/accounts/oidc/" in html) is configured


# --- _social_providers() ---------------------------------------------------


@pytest.fixture
def provider_env(monkeypatch):
    for name in OTHER_PROVIDERS:
        monkeypatch.delenv(f"PLURAL_{name}_CLIENT_ID", raising=False)

    def set_oidc(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("PLURAL_OIDC_PROVIDERS", raising=False)
        else:
            monkeypatch.setenv("PLURAL_OIDC_PROVIDERS", value)

    return set_oidc


def test_social_providers_builds_one_app_per_oidc_entry(provider_env):
    provider_env(
        json.dumps(
            [
                {"id": "acme", "name": "Acme", "server_url": "https://id.acme.example", "client_id": "a"},
                {
                    "id": "corp",
                    "name": "Corp SSO",
                    "server_url": "https://sso.corp.example/realms/x",
                    "client_id": "b",
                    "secret": "s3cret",
                    "token_auth_method": "client_secret_basic",
                    "pkce": False,
                    "scope": ["openid", "email"],
                },
            ]
        )
    )

    assert _social_providers() == {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "acme",
                    "name": "Acme",
                    "client_id": "a",
                    "secret": "",
                    "settings": {
                        "server_url": "https://id.acme.example",
                        "token_auth_method": "client_secret_post",
                        "oauth_pkce_enabled": True,
                        "scope": ["openid", "profile", "email"],
                    },
                },
                {
                    "provider_id": "corp",
                    "name": "Corp SSO",
                    "client_id": "b",
                    "secret": "s3cret",
                    "settings": {
                        "server_url": "https://sso.corp.example/realms/x",
                        "token_auth_method": "client_secret_basic",
                        "oauth_pkce_enabled": False,
                        "scope": ["openid", "email"],
                    },
                },
            ]
        }
    }


@pytest.mark.parametrize("value", [None, "", "[]"])
def test_social_providers_empty_without_configuration(provider_env, value):
    provider_env(value)
    assert _social_providers() == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[{not json", "not valid JSON"),
        ('{"id": "acme"}', "must be a JSON list of objects"),
        ('["acme"]', "must be a JSON list of objects"),
        ('[{"id": "acme", "name": "Acme", "client_id": "a"}]', r"'acme' lacks \['server_url'\]"),
        ('[{"server_url": "https://id.example"}]', r"'\?' lacks \['client_id', 'id', 'name'\]"),
    ],
)
def test_social_providers_rejects_bad_configuration(provider_env, value, message):
    provider_env(value)
    with pytest.raises(ImproperlyConfigured, match=message):
        _social_providers()
