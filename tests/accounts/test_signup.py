"""Sign-up, e-mail verification, login and password flows through allauth."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a quieter river at dawn"


def _signup(client, **overrides):
    data = {
        "email": "nia@example.com",
        "username": "nia",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return client.post(reverse("account_signup"), data)


def _link_in_last_mail(pattern: str) -> str:
    match = re.search(pattern, mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


def test_signup_sends_verification_and_confirming_allows_login(client):
    response = _signup(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(username="nia")
    assert EmailAddress.objects.get(user=user).verified is False
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nia@example.com"]

    confirm_path = _link_in_last_mail(r"/accounts/confirm-email/[^\s]+/")
    assert client.get(confirm_path).status_code == 200
    client.post(confirm_path)

    assert EmailAddress.objects.get(user=user).verified is True
    response = client.post(reverse("account_login"), {"login": "nia@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == user


def test_unverified_user_cannot_log_in(client):
    _signup(client)
    client.logout()
    mail.outbox.clear()

    response = client.post(reverse("account_login"), {"login": "nia", "password": NEW_PASSWORD})

    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert mail.outbox == [], "verification mails are rate limited to one per address every 3 minutes"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"password2": "something else entirely"}, "password2", "You must type the same password each time."),
        ({"password1": "123", "password2": "123"}, "password1", "This password is too short."),
        ({"username": ""}, "username", "This field is required."),
    ],
)
def test_invalid_signup_shows_error_on_the_form_and_saves_nothing(client, overrides, field, message):
    response = _signup(client, **overrides)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert User.objects.count() == 0
    assert EmailAddress.objects.count() == 0
    assert mail.outbox == []


def test_duplicate_email_is_refused_without_revealing_or_saving(client):
    UserFactory(username="first", email="nia@example.com")

    response = _signup(client, username="second")

    # Account enumeration prevention: the form proceeds as if it worked but
    # only an "already registered" notice goes to the address's owner.
    assert not User.objects.filter(username="second").exists()
    assert User.objects.filter(email__iexact="nia@example.com").count() == 1
    assert response.status_code == 302
    assert "already" in mail.outbox[-1].body.lower()


def test_duplicate_username_is_refused_on_the_form(client):
    UserFactory(username="nia", email="someone@example.com")

    response = _signup(client)

    assert response.status_code == 200
    assert "username already exists" in " ".join(response.context["form"].errors["username"])
    assert User.objects.count() == 1


def test_wrong_password_is_refused_with_a_clear_message(client):
    UserFactory(username="nia")

    response = client.post(reverse("account_login"), {"login": "nia", "password": "wrong password"})

    assert response.status_code == 200
    assert "not correct" in " ".join(response.context["form"].non_field_errors())
    assert "_auth_user_id" not in client.session


def test_expired_verification_link_is_refused(client, settings):
    _signup(client)
    confirm_path = _link_in_last_mail(r"/accounts/confirm-email/[^\s]+/")
    settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 0

    page = client.get(confirm_path)
    client.post(confirm_path)

    assert EmailAddress.objects.get(email="nia@example.com").verified is False
    assert page.status_code == 200
    assert b"expired or is invalid" in page.content


def test_tampered_verification_link_verifies_nothing(client):
    _signup(client)
    confirm_path = _link_in_last_mail(r"/accounts/confirm-email/[^\s]+/")

    page = client.get(confirm_path[:-3] + "xx/")
    client.post(confirm_path[:-3] + "xx/")

    assert EmailAddress.objects.get(email="nia@example.com").verified is False
    assert b"expired or is invalid" in page.content


def test_password_reset_by_mail_changes_the_password(client):
    user = UserFactory(username="nia", email="nia@example.com")

    client.post(reverse("account_reset_password"), {"email": "nia@example.com"})
    reset_path = _link_in_last_mail(r"/accounts/password/reset/key/[^\s]+/")
    form_page = client.get(reset_path, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_requires_the_old_password(client):
    user = UserFactory(username="nia")
    client.force_login(user)

    refused = client.post(
        reverse("account_change_password"),
        {"oldpassword": "not it", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    user.refresh_from_db()
    assert refused.status_code == 200
    assert user.check_password(TEST_PASSWORD)

    client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_email_change_takes_effect_only_after_verifying_the_new_address(client):
    user = UserFactory(username="nia", email="nia@example.com")
    client.force_login(user)

    client.post(reverse("account_email"), {"action_add": "", "email": "nia@new.example"})

    assert EmailAddress.objects.get(user=user, email="nia@new.example").verified is False
    user.refresh_from_db()
    assert user.email == "nia@example.com"
    confirm_path = _link_in_last_mail(r"/accounts/confirm-email/[^\s]+/")
    client.post(confirm_path)
    user.refresh_from_db()
    assert user.email == "nia@new.example"


def test_failed_logins_are_rate_limited(client):
    UserFactory(username="nia")

    for _attempt in range(5):
        client.post(reverse("account_login"), {"login": "nia", "password": "wrong password"})
    response = client.post(reverse("account_login"), {"login": "nia", "password": TEST_PASSWORD})

    assert response.status_code in {200, 429}
    assert "_auth_user_id" not in client.session
    assert b"Too many failed login attempts" in response.content


def test_login_page_links_to_signup_and_password_reset(client):
    response = client.get(reverse("account_login"))

    assert reverse("account_signup").encode() in response.content
    assert reverse("account_reset_password").encode() in response.content
