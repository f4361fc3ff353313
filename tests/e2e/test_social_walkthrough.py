"""Two friends, in the real browser: they follow each other; one saves a listing to a list and
buys something, and the other sees exactly what the first one's choices share, as the choices
change and when an activity is withdrawn; the network switch changes the recommendations; and
a want for a work brings one notification when a shop lists a copy under the maximum price."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from playwright.sync_api import expect

from catalog.models import Work
from notifications.models import Notification
from orders import services as order_services
from social import recommendations, services
from tests.e2e.conftest import from_database
from tests.factories import TEST_PASSWORD, ListingFactory, ShopFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ISBN = "9780000000002"


def _world() -> dict:
    olive = UserFactory(username="olive", display_name="Olive Owner")
    shop = ShopFactory(name="Olive's Books", slug="olives-books", owner=olive, payment_methods=["bank_transfer"])
    lichens_work = Work.objects.create(title="Lichens of Britain", identifier_kind="isbn", identifier=ISBN)
    listings = {
        "mosses": ListingFactory(shop=shop, title="Mosses of Wales", price=Decimal("9.00"), quantity=5),
        "atlas": ListingFactory(shop=shop, title="An Atlas of Rivers", price=Decimal("20.00"), quantity=5),
        "ferns": ListingFactory(shop=shop, title="Ferns and Fern Allies", quantity=20),
        "fungi": ListingFactory(shop=shop, title="Fungi of the Woods", quantity=20),
    }
    bea = UserFactory(username="bea", display_name="Bea Buyer", country="GB")
    otto = UserFactory(username="otto", display_name="Otto Other", country="GB")
    order_services.address_create(user=bea, full_name="Bea Buyer", line1="4 Mill Lane", city="York", country="GB")
    # Otto follows three botanists, who bought the mosses with ferns; a larger crowd bought them with fungi.
    for number in range(3):
        botanist = UserFactory(username=f"botanist{number}")
        services.follow_create(follower=otto, person=botanist)
        with transaction.atomic():
            recommendations.purchases_record(user=botanist, listings=[listings["mosses"], listings["ferns"]])
    for number in range(4):
        with transaction.atomic():
            recommendations.purchases_record(
                user=UserFactory(username=f"crowd{number}"), listings=[listings["mosses"], listings["fungi"]]
            )
    recommendations.events_count()
    client = Client()
    client.force_login(olive)
    return {
        "listings": {name: listing.pk for name, listing in listings.items()},
        "work": lichens_work.pk,
        "olive_session": client.cookies["sessionid"].value,
    }


def _window(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    return context.new_page()


def _log_in(page, live_server, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/")


def _feed(page):
    page.goto("/feed/")
    return page.get_by_role("main")


def test_two_friends_share_exactly_what_they_chose_in_the_browser(page, live_server, eager_tasks):
    data = from_database(_world)
    listings = data["listings"]
    bea = page
    otto = _window(page.context.browser, live_server)
    _log_in(bea, live_server, "bea")
    _log_in(otto, live_server, "otto")

    # They follow each other from their profiles.
    bea.goto("/people/otto/")
    bea.get_by_role("button", name="Follow Otto Other").click()
    expect(bea.get_by_text("You follow Otto Other.")).to_be_visible()
    otto.goto("/people/bea/")
    otto.get_by_role("button", name="Follow Bea Buyer").click()
    expect(otto.get_by_text("Follows you")).to_be_visible()

    # Bea reads what sharing means and chooses: favourites for her followers, purchases private.
    bea.get_by_role("navigation", name="Account").get_by_role("link", name="Feed").click()
    expect(bea.get_by_text("Nothing you do is shown to anyone yet.")).to_be_visible()
    bea.get_by_role("link", name="Choose what you share, and with whom").click()
    expect(bea.get_by_role("heading", name="What sharing means on Plural")).to_be_visible()
    bea.get_by_label("What I favourite").select_option(label="My followers")
    expect(bea.get_by_label("What I buy")).to_have_value("0")
    bea.get_by_role("button", name="I have read this: share as chosen").click()
    expect(bea.get_by_text("Saved. Your choices apply to everything you did before, too.")).to_be_visible()

    # She keeps a list her followers can see, saves the mosses to it, and buys the atlas.
    bea.goto("/favourites/")
    bea.get_by_label("Name of the list").fill("Botany")
    bea.get_by_label("Who sees it").select_option(label="My followers")
    bea.get_by_role("button", name="Create the list").click()
    bea.goto(f"/listings/{listings['mosses']}/")
    bea.get_by_label("Save to", exact=True).select_option(label="Botany")
    bea.get_by_role("button", name="Save to favourites").click()
    expect(bea.get_by_text("Saved to “Botany”.")).to_be_visible()
    bea.goto(f"/listings/{listings['atlas']}/")
    bea.get_by_role("button", name="Add to cart").click()
    bea.goto("/checkout/")
    bea.get_by_role("button", name="Place 1 order").click()
    expect(bea.get_by_role("heading", name="Thank you: 1 order placed")).to_be_visible()

    # Otto sees the favourite, not the purchase.
    feed = _feed(otto)
    expect(feed.get_by_text("saved Mosses of Wales to the list Botany")).to_be_visible()
    expect(feed.get_by_text("An Atlas of Rivers")).to_have_count(0)

    # Bea shares her purchases with the people she follows back: Otto sees it, also the past one.
    bea.goto("/sharing/")
    bea.get_by_label("What I buy").select_option(label="People I follow back")
    bea.get_by_role("button", name="Save my choices").click()
    feed = _feed(otto)
    expect(feed.get_by_text("bought An Atlas of Rivers from Olive's Books")).to_be_visible()

    # She withdraws that one purchase: gone from Otto's feed and from her profile.
    bea.goto("/activity/")
    bea.get_by_role("article", name="Bought something").get_by_role("button", name="Withdraw").click()
    expect(bea.get_by_text("Withdrawn: nobody sees it any more.")).to_be_visible()
    feed = _feed(otto)
    expect(feed.get_by_text("An Atlas of Rivers")).to_have_count(0)
    otto.goto("/people/bea/")
    expect(otto.get_by_text("An Atlas of Rivers")).to_have_count(0)
    expect(otto.get_by_text("saved Mosses of Wales to the list Botany")).to_be_visible()

    # The network switch: everyone bought the mosses with fungi, the people Otto follows with ferns.
    otto.goto(f"/listings/{listings['mosses']}/")
    recommended = otto.get_by_role("region", name="What others did")
    expect(recommended.get_by_role("heading", name="People who bought this also bought")).to_be_visible()
    expect(recommended.get_by_role("link", name="Fungi of the Woods").first).to_be_visible()
    recommended.get_by_role("link", name="People I follow").click()
    recommended = otto.get_by_role("region", name="What others did")
    expect(recommended.get_by_role("heading", name="People you follow who bought this also bought")).to_be_visible()
    expect(recommended.get_by_role("link", name="Ferns and Fern Allies").first).to_be_visible()
    expect(recommended.get_by_role("link", name="Fungi of the Woods")).to_have_count(0)

    # Otto wants the lichens under 20 GBP; Olive lists one copy at 25, then one at 15.
    otto.goto(f"/works/{data['work']}/")
    otto.get_by_role("link", name="Add it to your want list").click()
    otto.get_by_label("The most you would pay").fill("20")
    otto.get_by_label("Currency").select_option("GBP")
    otto.get_by_role("button", name="Save the want").click()
    expect(otto.get_by_text("Your want is saved: you hear of it when a listing matches.")).to_be_visible()

    olive = _window(page.context.browser, live_server)
    olive.context.add_cookies([{"name": "sessionid", "value": data["olive_session"], "url": live_server.url}])
    for title, price in (("Lichens of Britain, worn", "25.00"), ("Lichens of Britain, fine", "15.00")):
        olive.goto("/shops/olives-books/dashboard/listings/new/")
        olive.get_by_label("Title").fill(title)
        olive.get_by_label("ISBN, EAN or catalog number").fill(ISBN)
        olive.get_by_label("Price").fill(price)
        olive.get_by_label("Currency").select_option("GBP")
        olive.get_by_label("Status").select_option("active")
        olive.get_by_role("button", name="Save listing").click()
        expect(olive.get_by_text(title).first).to_be_visible()

    otto.goto("/notifications/")
    expect(
        otto.get_by_role("button", name="Unread: Found for your want list: Lichens of Britain, fine")
    ).to_be_visible()
    found = from_database(
        lambda: list(
            Notification.objects.filter(recipient__username="otto", kind="wantlist.matched").values_list(
                "title", flat=True
            )
        )
    )
    assert found == ["Found for your want list: Lichens of Britain, fine"]
