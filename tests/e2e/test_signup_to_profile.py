"""A new person, in the real browser: sign up, verify by e-mail, log in, make a profile."""

import re

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import expect

from accounts.models import User
from tests.e2e.conftest import from_database
from tests.images import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "lanterns over the harbour"


def test_a_new_person_signs_up_verifies_logs_in_and_edits_their_profile(page, live_server, tmp_path):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.fill("input[name=email]", "ama@example.com")
    page.fill("input[name=username]", "ama")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", "not the same")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("You must type the same password each time.")).to_be_visible()
    assert not from_database(User.objects.filter(username="ama").exists)

    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    # Unverified, the account cannot be used yet.
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "ama")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/confirm-email/")

    # allauth does not send a second verification mail within minutes of the first.
    assert [message.to for message in mail.outbox] == [["ama@example.com"]]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "ama@example.com")
    page.fill("input[name=password]", "a wrong password")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")
    account_menu = page.get_by_role("navigation", name="Account")
    expect(account_menu.get_by_role("button", name="Log out")).to_be_visible()

    account_menu.get_by_role("link", name="Profile").click()
    page.get_by_label("Display name").fill("Ama Owusu")
    page.get_by_label("Bio").fill("I collect West African highlife records.")
    page.get_by_label("Country").select_option("GH")
    page.get_by_label("City").fill("Kumasi")
    picture = tmp_path / "portrait.png"
    picture.write_bytes(image_bytes(size=(900, 600)))
    page.get_by_label("Avatar").set_input_files(str(picture))
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()

    page.get_by_role("link", name="See your public profile").click()
    expect(page.get_by_role("heading", name="Ama Owusu")).to_be_visible()
    expect(page.get_by_text("Kumasi, Ghana")).to_be_visible()
    expect(page.get_by_text("I collect West African highlife records.")).to_be_visible()
    avatar = page.get_by_role("img", name="Picture of Ama Owusu")
    expect(avatar).to_be_visible()

    ama = from_database(lambda: User.objects.get(username="ama"))
    assert avatar.get_attribute("src") == ama.avatar_large.url
    with Image.open(ama.avatar_large.path) as stored:
        assert stored.width == stored.height
