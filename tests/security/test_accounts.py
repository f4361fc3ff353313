"""Accounts: two-factor authentication for everyone and required by the shops that ask for it,
the list of one's sessions with "log out the others", rate-limited login and sign-up, and
password rules that refuse short, common and look-alike passwords."""

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sellers import services as shop_services
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))


def log_in(person, *, user_agent: str = "Plural tests") -> Client:
    """A client signed in through the login form (as a person would, so allauth records how)."""
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post(reverse("account_login"), {"login": person.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def turn_on_totp(client) -> str:
    """Activate an authenticator app for the signed-in person; its secret. Changing how one signs
    in asks for the password again first."""
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:800]
    return secret


def test_two_factor_pages_are_linked_from_the_account_pages(client, buyer):
    client.force_login(buyer)

    page = client.get(reverse("account_email")).content.decode()

    assert f'href="{reverse("mfa_index")}"' in page
    assert f'href="{reverse("usersessions_list")}"' in page
    index = client.get(reverse("mfa_index"))
    assert index.status_code == 200
    assert "Authenticator App" in index.content.decode()
    assert "Security Keys" in index.content.decode()


def test_with_an_authenticator_app_login_asks_for_a_code(buyer):
    client = log_in(buyer)
    secret = turn_on_totp(client)
    assert Authenticator.objects.filter(user=buyer, type=Authenticator.Type.TOTP).count() == 1

    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=31), tick=True):
        fresh = Client()
        step = fresh.post(reverse("account_login"), {"login": "bea", "password": TEST_PASSWORD})
        assert step["Location"] == reverse("mfa_authenticate")
        assert "_auth_user_id" not in fresh.session
        wrong = fresh.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert wrong.status_code == 200 and "_auth_user_id" not in fresh.session
        fresh.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert fresh.session["_auth_user_id"] == str(buyer.pk)


def test_a_shop_requires_mfa_of_its_people_on_dashboard_pages_and_api(shop, shop_owner, shop_staff, other_shop):
    owner = log_in(shop_owner)
    refused = owner.post(
        reverse("sellers:shop_edit", kwargs={"slug": shop.slug}),
        {"section": "security", "security-requires_mfa": "on"},
    )
    assert refused.status_code == 200
    assert "Turn on two-factor authentication for your own account first" in refused.content.decode()
    shop.refresh_from_db()
    assert shop.requires_mfa is False

    turn_on_totp(owner)
    owner.post(
        reverse("sellers:shop_edit", kwargs={"slug": shop.slug}),
        {"section": "security", "security-requires_mfa": "on"},
    )
    shop.refresh_from_db()
    assert shop.requires_mfa is True

    staff = log_in(shop_staff)
    dashboard = staff.get(reverse("sellers:dashboard", kwargs={"slug": shop.slug}))
    assert dashboard.status_code == 403
    assert "Turn on two-factor authentication first" in dashboard.content.decode()
    assert reverse("mfa_index") in dashboard.content.decode()
    assert staff.get(reverse("orders:shop_orders", kwargs={"slug": shop.slug})).status_code == 403
    assert staff.get(f"/api/shops/{shop.slug}/orders/").status_code == 403
    assert staff.get(f"/api/shops/{shop.slug}/listings/").status_code == 403
    # the storefront is for everyone as before, and the owner with a second factor gets in
    assert staff.get(reverse("sellers:storefront", kwargs={"slug": shop.slug})).status_code == 200
    assert owner.get(reverse("sellers:dashboard", kwargs={"slug": shop.slug})).status_code == 200

    turn_on_totp(staff)
    assert staff.get(reverse("sellers:dashboard", kwargs={"slug": shop.slug})).status_code == 200


def test_only_the_owner_sets_the_requirement(shop, shop_staff):
    with pytest.raises(shop_services.PermissionDenied):
        shop_services.shop_set_mfa_requirement(shop=shop, actor=shop_staff, requires_mfa=False)
    staff = log_in(shop_staff)

    page = staff.get(reverse("sellers:shop_edit", kwargs={"slug": shop.slug})).content.decode()

    assert "security-requires_mfa" not in page


def test_sessions_list_shows_each_device_and_logs_out_the_others(buyer):
    laptop = log_in(buyer, user_agent="Laptop browser")
    phone = log_in(buyer, user_agent="Phone browser")
    laptop.get("/")

    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Laptop browser" in page and "Phone browser" in page
    assert "127.0.0.1" in page
    assert "Last seen at" in page
    assert UserSession.objects.filter(user=buyer).count() == 2

    laptop.post(reverse("usersessions_list"))

    assert UserSession.objects.filter(user=buyer).count() == 1
    assert phone.get(reverse("orders:list"))["Location"].startswith(reverse("account_login"))
    assert laptop.get(reverse("orders:list")).status_code == 200


def test_last_activity_is_written_once_per_interval_not_on_every_request(buyer):
    client = log_in(buyer)
    record = UserSession.objects.get(user=buyer)
    client.get("/")
    with CaptureQueriesContext(connection) as within_interval:
        client.get("/")
    assert not any("usersessions_usersession" in query["sql"] for query in within_interval.captured_queries)

    later = timezone.now() + timezone.timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        client.get("/")

    record.refresh_from_db()
    assert record.last_seen_at == later


def test_failed_logins_are_limited_per_account(buyer):
    client = Client()
    for _ in range(5):
        wrong = client.post(reverse("account_login"), {"login": "bea", "password": "not the password"})
        assert wrong.status_code == 200

    blocked = client.post(reverse("account_login"), {"login": "bea", "password": TEST_PASSWORD})

    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in blocked.content.decode()


def test_signups_are_limited_per_address(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/m/ip"}
    client = Client()

    def sign_up(number):
        return client.post(
            reverse("account_signup"),
            {
                "email": f"new{number}@example.com",
                "username": f"new{number}",
                "password1": "a quieter river at dawn",
                "password2": "a quieter river at dawn",
            },
        )

    answers = [sign_up(number).status_code for number in range(4)]

    assert answers[:3] == [302, 302, 302]
    assert answers[3] == 429


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("riverbank1", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("123456789012", "This password is entirely numeric."),
        ("newcomer-example", "The password is too similar to the"),
    ],
)
def test_weak_passwords_are_refused_at_sign_up(client, password, message):
    response = client.post(
        reverse("account_signup"),
        {"email": "newcomer@example.com", "username": "newcomer", "password1": password, "password2": password},
    )

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["password1"])
