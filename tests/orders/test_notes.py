"""Thank-you notes both ways: the shop's, signed by one of its people, on the buyer's order page
and the packing slip; the buyer's, shown among the storefront's kind words only with their
consent, which they can withdraw at once. On the pages, the API and the services."""

from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from notifications.models import Notification
from orders import services
from orders.lifecycle import Actor
from orders.models import ThankYouNote
from tests.factories import ListingFactory
from tests.orders.conftest import place, ship, snapshot

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "buyer", "other_buyer", "shop_owner", "shop_staff", "other_shop_owner", "staff_user"]


def _text(response) -> str:
    return unescape(response.content.decode())


def _notes():
    return list(ThankYouNote.objects.order_by("pk").values("direction", "signed_as", "text", "show_on_storefront"))


@pytest.fixture
def shipped(order, shop_owner):
    return ship(order, shop_owner)


def test_the_shops_note_is_signed_shown_to_the_buyer_and_printed_on_the_packing_slip(as_user, order, shop_staff, buyer):
    note = services.thank_you_note_write(
        order=order, actor=shop_staff, by=Actor.SHOP, text="Thank you for choosing us!\nSam"
    )

    assert (note.direction, note.signed_as, note.show_on_storefront) == ("from_shop", "Sam Staff", False)
    assert order.events.last().message == "Sam Staff of Olive's Books wrote a thank-you note."
    assert Notification.objects.filter(recipient=buyer).last().title == "Sam Staff sent you a thank-you note"
    page = _text(as_user("buyer").get(f"/orders/{order.pk}/"))
    slip = _text(as_user("shop_owner").get(f"/shops/olives-books/dashboard/orders/{order.pk}/packing-slip/"))
    for text in (page, slip):
        assert "Thank you for choosing us!<br>Sam" in text
        assert "Sam Staff, Olive's Books" in text


def test_writing_again_replaces_the_note_signed_by_whoever_wrote_it(order, shop_staff, shop_owner, buyer):
    services.thank_you_note_write(order=order, actor=shop_staff, by=Actor.SHOP, text="Thanks!")
    services.thank_you_note_write(order=order, actor=shop_owner, by=Actor.SHOP, text="Thank you, Bea.")

    assert _notes() == [
        {"direction": "from_shop", "signed_as": "Olive Owner", "text": "Thank you, Bea.", "show_on_storefront": False}
    ]
    assert order.events.last().message == "Olive Owner of Olive's Books changed their thank-you note."
    assert Notification.objects.filter(recipient=buyer, kind="thanks.received").count() == 1


def test_the_buyers_note_waits_for_the_order_to_be_on_its_way(order, buyer):
    before = snapshot(order)

    with pytest.raises(ValidationError) as refused:
        services.thank_you_note_write(order=order, actor=buyer, by=Actor.BUYER, text="Thanks!")

    assert refused.value.message_dict == {"text": ["You can thank Olive's Books once the order is on its way."]}
    assert snapshot(order) == before and _notes() == []


def test_a_note_on_someone_elses_order_is_refused(shipped, other_buyer, other_shop_owner):
    before = snapshot(shipped)

    with pytest.raises(PermissionDenied):
        services.thank_you_note_write(order=shipped, actor=other_buyer, by=Actor.BUYER, text="Hijack")
    with pytest.raises(PermissionDenied):
        services.thank_you_note_write(order=shipped, actor=other_shop_owner, by=Actor.SHOP, text="Hijack")

    assert snapshot(shipped) == before and _notes() == []


def test_the_storefront_shows_only_consented_notes_and_withdrawal_is_immediate(
    client, shipped, buyer, other_buyer, other_buyer_address, shop, shop_owner
):
    [other] = place(other_buyer, other_buyer_address, ListingFactory(shop=shop), key="otto-1")
    other = ship(other, shop_owner)
    services.thank_you_note_write(
        order=shipped, actor=buyer, by=Actor.BUYER, text="A lovely atlas, beautifully packed.", show_on_storefront=True
    )
    services.thank_you_note_write(order=other, actor=other_buyer, by=Actor.BUYER, text="Private thanks only.")

    storefront = _text(client.get("/shops/olives-books/"))
    assert "Kind words" in storefront
    assert "A lovely atlas, beautifully packed." in storefront and "Bea Buyer" in storefront
    assert "Private thanks only." not in storefront

    services.thank_you_note_set_consent(order=shipped, actor=buyer, show_on_storefront=False)

    storefront = _text(client.get("/shops/olives-books/"))
    assert "A lovely atlas" not in storefront and "Kind words" not in storefront
    assert (
        shipped.events.last().message
        == "Bea Buyer no longer wants their thank-you note shown on Olive's Books's storefront."
    )
    assert client.get("/api/shops/olives-books/kind-words/").json() == []


def test_the_database_shows_no_note_without_consent(shipped, buyer):
    from django.db import IntegrityError, transaction

    note = services.thank_you_note_write(order=shipped, actor=buyer, by=Actor.BUYER, text="Thanks!")
    with pytest.raises(IntegrityError), transaction.atomic():
        ThankYouNote.objects.filter(pk=note.pk).update(show_on_storefront=True)


def test_both_sides_exchange_notes_on_the_pages(as_user, shipped, buyer):
    shop_page = as_user("shop_staff")
    buyer_page = as_user("buyer")

    response = shop_page.post(
        f"/shops/olives-books/dashboard/orders/{shipped.pk}/thank-you-note/", {"note-text": "Enjoy the rivers!"}
    )
    assert response.status_code == 302
    response = buyer_page.post(
        f"/orders/{shipped.pk}/thank-you-note/",
        {"action": "write", "note-text": "Arrived safely, thank you!", "note-show_on_storefront": "on"},
    )
    assert response.status_code == 302

    buyer_view = _text(buyer_page.get(f"/orders/{shipped.pk}/"))
    shop_view = _text(shop_page.get(f"/shops/olives-books/dashboard/orders/{shipped.pk}/"))
    assert "Enjoy the rivers!" in buyer_view and "Sam Staff, Olive's Books" in buyer_view
    assert "shown on its storefront, as you agreed" in buyer_view
    assert (
        "Arrived safely, thank you!" in shop_view
        and "The buyer agreed that it is shown on your storefront" in shop_view
    )

    response = buyer_page.post(f"/orders/{shipped.pk}/thank-you-note/", {"action": "consent"})
    assert response.status_code == 302
    assert ThankYouNote.objects.get(direction="from_buyer").show_on_storefront is False


def test_an_empty_note_on_the_page_keeps_nothing_and_says_why(as_user, shipped):
    response = as_user("buyer").post(f"/orders/{shipped.pk}/thank-you-note/", {"action": "write", "note-text": " "})

    assert response.status_code == 400
    assert "This field is required." in _text(response)
    assert _notes() == []


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_writes_the_buyers_note_and_only_the_shop_the_shops(as_user, api, shipped, role, other_shop):
    buyer_page = as_user(role).post(f"/orders/{shipped.pk}/thank-you-note/", {"action": "write", "note-text": "Hi"})
    buyer_api = api(role).put(f"/api/orders/{shipped.pk}/thank-you-notes/", {"text": "Hi"}, format="json")
    shop_page = as_user(role).post(
        f"/shops/olives-books/dashboard/orders/{shipped.pk}/thank-you-note/", {"note-text": "Hi"}
    )
    shop_api = api(role).put(
        f"/api/shops/olives-books/orders/{shipped.pk}/thank-you-notes/", {"text": "Hi"}, format="json"
    )
    reads = [
        api(role).get(f"/api/orders/{shipped.pk}/thank-you-notes/").status_code,
        api(role).get(f"/api/shops/olives-books/orders/{shipped.pk}/thank-you-notes/").status_code,
    ]

    redirect_or_404 = 302 if role == "anonymous" else 404
    assert buyer_page.status_code == (302 if role in {"buyer", "anonymous"} else 404)
    assert buyer_api.status_code == (200 if role == "buyer" else 404)
    assert shop_page.status_code == (302 if role in {"shop_owner", "shop_staff"} else redirect_or_404)
    assert shop_api.status_code == (200 if role in {"shop_owner", "shop_staff"} else 404)
    assert reads == [200 if role == "buyer" else 404, 200 if role in {"shop_owner", "shop_staff"} else 404]
    expected = {"from_buyer"} if role == "buyer" else {"from_shop"} if role in {"shop_owner", "shop_staff"} else set()
    assert set(ThankYouNote.objects.values_list("direction", flat=True)) == expected


def test_the_api_gives_and_withdraws_consent(api, shipped, buyer, shop_owner):
    client = api("buyer")
    written = client.put(
        f"/api/orders/{shipped.pk}/thank-you-notes/", {"text": "Lovely.", "show_on_storefront": True}, format="json"
    )
    assert written.status_code == 200
    assert written.json()["from_buyer"]["show_on_storefront"] is True
    assert [note["text"] for note in api("anonymous").get("/api/shops/olives-books/kind-words/").json()] == ["Lovely."]

    withdrawn = client.patch(f"/api/orders/{shipped.pk}/thank-you-notes/", {"show_on_storefront": False}, format="json")

    assert withdrawn.json()["from_buyer"]["show_on_storefront"] is False
    assert api("anonymous").get("/api/shops/olives-books/kind-words/").json() == []
    empty = client.put(f"/api/orders/{shipped.pk}/thank-you-notes/", {"text": ""}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()


def test_consent_without_a_note_is_refused(api, shipped):
    response = api("buyer").patch(
        f"/api/orders/{shipped.pk}/thank-you-notes/", {"show_on_storefront": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"show_on_storefront": ["Write your thank-you note first."]}
    assert _notes() == []


@pytest.mark.parametrize("count", [1, 6])
def test_kind_words_cost_one_query_whatever_their_number(
    api, shop, shop_owner, buyer, buyer_address, count, django_assert_num_queries
):
    for index in range(count):
        [placed] = place(buyer, buyer_address, ListingFactory(shop=shop), key=f"k{index}")
        placed = ship(placed, shop_owner)
        services.thank_you_note_write(
            order=placed, actor=buyer, by=Actor.BUYER, text=f"Thanks {index}", show_on_storefront=True
        )
    client = api("anonymous")

    with django_assert_num_queries(2):  # the shop, its consented notes
        response = client.get("/api/shops/olives-books/kind-words/")

    assert len(response.json()) == count


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_gives_or_withdraws_consent(as_user, api, shipped, buyer, role, other_shop):
    note = services.thank_you_note_write(order=shipped, actor=buyer, by=Actor.BUYER, text="Thanks!")

    response = api(role).patch(
        f"/api/orders/{shipped.pk}/thank-you-notes/", {"show_on_storefront": True}, format="json"
    )
    page = as_user(role).post(
        f"/orders/{shipped.pk}/thank-you-note/", {"action": "consent", "show_on_storefront": "on"}
    )

    note.refresh_from_db()
    if role == "buyer":
        assert response.status_code == 200 and page.status_code == 302 and note.show_on_storefront
        return
    assert response.status_code == 404
    assert page.status_code == (302 if role == "anonymous" else 404)
    assert note.show_on_storefront is False
