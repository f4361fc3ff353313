"""The notification centre, the badge, settings and unsubscribe links, page and API alike."""

import pytest
from rest_framework.test import APIClient

from notifications import services
from notifications.models import Notification, Preference

pytestmark = pytest.mark.django_db


def notify_message(actor, recipient, subject="About the atlas", url="/shops/olives-books/"):
    return services.notify(
        recipient=recipient, kind="message.new", actor=actor, context={"subject": subject, "url": url}
    )


@pytest.fixture
def api():
    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


def test_the_centre_lists_only_my_notifications_and_the_badge_counts_the_unread(client, buyer, other_buyer, shop_owner):
    notify_message(buyer, shop_owner, "About the atlas")
    notify_message(other_buyer, shop_owner, "About the map")
    notify_message(shop_owner, buyer, "Reply to Bea")

    client.force_login(shop_owner)
    page = client.get("/notifications/").content.decode()

    assert "Bea Buyer wrote to you: About the atlas" in page
    assert "Otto Other wrote to you: About the map" in page
    assert "Reply to Bea" not in page
    assert '<span class="badge count">2<span class="visually-hidden"> unread</span>' in page


def test_opening_a_notification_marks_it_read_and_follows_it(client, buyer, shop_owner):
    notification = notify_message(buyer, shop_owner)
    client.force_login(shop_owner)

    response = client.post(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 302 and response["Location"] == "/shops/olives-books/"
    notification.refresh_from_db()
    assert notification.is_read
    assert "badge count" not in client.get("/").content.decode()


def test_a_notification_never_redirects_off_the_site(client, buyer, shop_owner):
    notification = notify_message(buyer, shop_owner, url="https://evil.example/phish")
    client.force_login(shop_owner)

    response = client.post(f"/notifications/{notification.pk}/open/")

    assert response["Location"] == "/notifications/"


def test_someone_elses_notification_is_not_found_and_stays_unread(client, api, buyer, other_buyer, shop_owner):
    notification = notify_message(buyer, shop_owner)
    client.force_login(other_buyer)

    assert client.post(f"/notifications/{notification.pk}/open/").status_code == 404
    assert api(other_buyer).post(f"/api/notifications/{notification.pk}/read/").status_code == 404
    assert api(other_buyer).get("/api/notifications/").json()["results"] == []
    notification.refresh_from_db()
    assert not notification.is_read


def test_anonymous_visitors_are_sent_to_log_in_or_refused(client, api, buyer, shop_owner):
    notification = notify_message(buyer, shop_owner)
    for path in ["/notifications/", "/notifications/settings/"]:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(f"/notifications/{notification.pk}/open/").status_code == 302
    for method, path in [
        ("get", "/api/notifications/"),
        ("get", "/api/notifications/unread-count/"),
        ("post", "/api/notifications/read-all/"),
        ("get", "/api/notifications/settings/"),
        ("patch", "/api/notifications/settings/"),
        ("post", f"/api/notifications/{notification.pk}/read/"),
    ]:
        assert getattr(api(), method)(path).status_code in {401, 403}, path
    notification.refresh_from_db()
    assert not notification.is_read


def test_mark_all_read_page_and_api(client, api, buyer, other_buyer, shop_owner):
    notify_message(buyer, shop_owner)
    notify_message(other_buyer, shop_owner)
    mine = notify_message(shop_owner, buyer)
    client.force_login(shop_owner)

    client.post("/notifications/read-all/")

    assert not Notification.objects.filter(recipient=shop_owner, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=mine.pk).read_at is None
    assert api(buyer).get("/api/notifications/unread-count/").json() == {"unread": 1}
    assert api(buyer).post("/api/notifications/read-all/").json() == {"changed": 1}
    assert api(buyer).get("/api/notifications/unread-count/").json() == {"unread": 0}


def test_the_api_lists_newest_first_with_a_cursor_and_an_unread_filter(api, buyer, shop_owner):
    first = notify_message(buyer, shop_owner, "first")
    for number in range(31):
        notify_message(buyer, shop_owner, f"more {number}")
    services.mark_read(user=shop_owner, notification_id=first.pk)

    page = api(shop_owner).get("/api/notifications/").json()
    assert len(page["results"]) == 30 and page["next"] and page["results"][0]["title"].endswith("more 30")
    rest = api(shop_owner).get(page["next"]).json()
    assert [item["title"] for item in rest["results"]][-1] == "Bea Buyer wrote to you: first"
    assert rest["results"][-1]["is_read"] is True

    unread = api(shop_owner).get("/api/notifications/", {"unread": "true"}).json()
    assert "first" not in str([item["title"] for item in unread["results"]])


def test_the_centre_and_the_api_make_a_fixed_number_of_queries(
    client, api, buyer, shop_owner, django_assert_num_queries
):
    client.force_login(shop_owner)
    for number in range(3):
        notify_message(buyer, shop_owner, f"m{number}")
    # session, user, count, page (with actors), unread badge, messages badge
    with django_assert_num_queries(6):
        client.get("/notifications/")
    for number in range(20):
        notify_message(buyer, shop_owner, f"n{number}")
    with django_assert_num_queries(6):
        client.get("/notifications/")
    with django_assert_num_queries(1):
        api(shop_owner).get("/api/notifications/")


def test_settings_page_saves_choices_and_shows_them(client, shop_owner):
    client.force_login(shop_owner)
    page = client.get("/notifications/settings/").content.decode()
    assert "A new message in one of my conversations" in page

    data = {f"{kind}-email": "immediate" for kind in services.KINDS}
    data.update({f"{kind}-in_app": "on" for kind in services.KINDS})
    data["message.new-email"] = "digest"
    data.pop("order.new-in_app")
    response = client.post("/notifications/settings/", data, follow=True)

    assert "Your notification choices have been saved." in response.content.decode()
    saved = {p.kind: (p.in_app, p.email) for p in Preference.objects.filter(user=shop_owner)}
    assert saved["message.new"] == (True, "digest")
    assert saved["order.new"] == (False, "immediate")


def test_settings_page_refuses_unknown_email_modes_and_saves_nothing(client, shop_owner):
    client.force_login(shop_owner)
    data = {f"{kind}-email": "immediate" for kind in services.KINDS}
    data["message.new-email"] = "hourly"

    response = client.post("/notifications/settings/", data, follow=True)

    assert "E-mail must be one of" in response.content.decode()
    assert not Preference.objects.exists()


def test_settings_api_changes_only_the_kinds_sent_and_refuses_bad_ones(api, shop_owner):
    client = api(shop_owner)
    before = client.get("/api/notifications/settings/").json()
    assert {
        "kind": "message.new",
        "label": "A new message in one of my conversations",
        "in_app": True,
        "email": "immediate",
    } in before

    changed = client.patch("/api/notifications/settings/", [{"kind": "shop.listed", "email": "off"}], format="json")
    assert changed.status_code == 200
    assert {item["kind"]: item["email"] for item in changed.json()}["shop.listed"] == "off"

    refused = client.patch(
        "/api/notifications/settings/",
        [{"kind": "message.new", "email": "off"}, {"kind": "nonsense", "email": "off"}],
        format="json",
    )
    assert refused.status_code == 400
    assert list(Preference.objects.values_list("kind", "email")) == [("shop.listed", "off")]


def test_one_click_unsubscribe_turns_that_kind_off_and_forged_links_change_nothing(client, shop_owner):
    token = services.unsubscribe_token(user=shop_owner, kind="message.new")

    shown = client.get(f"/notifications/unsubscribe/{token}/")
    assert shown.status_code == 200 and not Preference.objects.exists()  # looking changes nothing

    forged = client.post(f"/notifications/unsubscribe/{token[:-2]}xx/")
    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert not Preference.objects.exists()

    done = client.post(f"/notifications/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert Preference.objects.get(user=shop_owner, kind="message.new").email == "off"
