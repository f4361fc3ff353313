"""In the real browser: a seller exports their shop, deletes their account, and a second
Plural site (this database, emptied) imports the shop with its reviews shown as earned
elsewhere; a buyer withdraws consent and their activity leaves another person's view at once."""

import importlib

import pytest
from django.apps import apps
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from orders.models import Order
from tests.accounts.busy import busy_buyer, busy_shop
from tests.e2e.conftest import from_database
from tests.factories import TEST_PASSWORD, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")


def _seller_and_buyer():
    olive = UserFactory(username="olive", display_name="Olive Owner")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive)
    busy_buyer(UserFactory(username="bea"), shop)
    busy_shop(shop)
    Order.objects.update(state="completed")


def _second_site():
    call_command("flush", interactive=False, verbosity=0)
    importlib.import_module("catalog.migrations.0002_default_conditions").create_conditions(apps, None)
    UserFactory(username="olive2", display_name="Olive Again")


def test_a_seller_takes_their_shop_to_another_plural_site(page, live_server, eager_tasks, tmp_path, settings):
    settings.PRIVACY_SITE_ORIGIN = "https://first.plural.example"
    from_database(_seller_and_buyer)
    _log_in(page, live_server, "olive")

    page.goto("/privacy/")
    expect(page.get_by_role("heading", name="What Plural holds about you")).to_be_visible()
    page.get_by_role("button", name="Export my data").click()
    expect(page.get_by_text("Your export is being prepared")).to_be_visible()
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    archive = tmp_path / "export.zip"
    download_info.value.save_as(archive)

    page.get_by_role("link", name="See what deleting your account does").click()
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account has been deleted.")).to_be_visible()
    assert from_database(lambda: User.objects.get(username__startswith="former-member").display_name) == (
        "Former member"
    )

    # Another Plural site, where the seller signs up again and brings the shop.
    from_database(_second_site)
    _log_in(page, live_server, "olive2")
    page.goto("/privacy/import/")
    page.get_by_label("Your Plural export (.zip)").set_input_files(str(archive))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported:")).to_be_visible()

    page.goto("/shops/olives-books/")
    expect(page.get_by_role("heading", name="Olive's Books", exact=True)).to_be_visible()
    expect(page.get_by_text("Maps of the Moon")).to_be_visible()
    page.get_by_role("link", name="Reviews this shop earned on another Plural site").click()
    expect(page.get_by_role("heading", name="Superb")).to_be_visible()
    expect(page.get_by_text("By Beatrix Quillfeather").first).to_contain_text("on https://first.plural.example")


def test_a_buyer_withdraws_consent_and_their_activity_disappears_at_once(page, live_server, eager_tasks):
    from_database(_seller_and_buyer)
    otto = page.context.browser.new_context(base_url=live_server.url).new_page()
    from_database(lambda: UserFactory(username="otto"))
    _log_in(otto, live_server, "otto")
    otto.goto("/people/bea/")
    activity = otto.locator(".profile-activity")
    expect(activity.get_by_text("An Atlas of Rivers").first).to_be_visible()

    bea = page
    _log_in(bea, live_server, "bea")
    bea.goto("/privacy/consents/")
    bea.locator("#consent-activity_sharing").get_by_role("button", name="Withdraw").click()
    expect(bea.get_by_text("Withdrawn, from this moment.")).to_be_visible()

    otto.reload()
    expect(activity.get_by_text("An Atlas of Rivers")).to_have_count(0)
