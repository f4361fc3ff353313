"""The privacy page, consents, exports and their download, the access log, retention, breach notices."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import BreachNotice, ConsentRecord, DataAccess, DataExport
from notifications.models import Notification
from social.models import Activity, Audience
from social.selectors import person_activity
from tests.accounts.busy import busy_buyer, busy_shop


def signed_in(user, *, api: bool = False):
    client = APIClient() if api else Client()
    if api:
        client.force_authenticate(user)
    else:
        client.force_login(user)
    return client


@pytest.mark.django_db
def test_privacy_page_lists_every_kind_with_counts_and_periods(buyer, shop, eager_tasks):
    busy_buyer(buyer, shop)
    response = signed_in(buyer).get(reverse("accounts:privacy"))
    assert response.status_code == 200
    held = {kind.slug: kind.count for kind in response.context["held"]}
    assert held["addresses"] == held["orders"] == held["reviews"] == held["wants"] == held["tags"] == 1
    assert held["favourites"] == 2 and held["follows"] == 1 and held["messages"] == 1
    assert b"90 days" in response.content  # view events' retention
    api = signed_in(buyer, api=True).get(reverse("api-privacy")).json()
    assert {kind["slug"]: kind["count"] for kind in api["held"]} == held


def test_privacy_pages_need_signing_in(client, db):
    for name in ("accounts:privacy", "accounts:privacy_consents", "accounts:account_delete", "accounts:data_import"):
        assert client.get(reverse(name)).status_code == 302
    assert APIClient().get(reverse("api-privacy")).status_code == 403


@pytest.mark.django_db
def test_withdrawing_activity_sharing_hides_it_from_others_at_once(buyer, other_buyer, shop, eager_tasks):
    busy_buyer(buyer, shop)
    assert person_activity(person=buyer, viewer=other_buyer).activities

    response = signed_in(buyer).post(
        reverse("accounts:privacy_consents"), {"purpose": "activity_sharing", "is_given": "0"}
    )

    assert response.status_code == 302
    assert person_activity(person=buyer, viewer=other_buyer).activities == []
    assert set(Activity.objects.filter(actor=buyer).values_list("audience", flat=True)) == {Audience.ONLY_ME}
    record = ConsentRecord.objects.get(user=buyer)
    assert (record.purpose, record.is_given, record.wording_version) == ("activity_sharing", False, "2026-01")


@pytest.mark.django_db
def test_marketing_and_recommendations_consents_are_recorded_and_withdrawn(buyer):
    api = signed_in(buyer, api=True)
    assert (
        api.post(reverse("api-privacy-consents"), {"purpose": "marketing_email", "is_given": True}).status_code == 201
    )
    assert (
        api.post(reverse("api-privacy-consents"), {"purpose": "recommendations", "is_given": False}).status_code == 201
    )
    states = {state["purpose"]: state["is_given"] for state in api.get(reverse("api-privacy-consents")).json()}
    assert states["marketing_email"] is True and states["recommendations"] is False
    assert (
        api.post(reverse("api-privacy-consents"), {"purpose": "marketing_email", "is_given": False}).status_code == 201
    )
    states = {state["purpose"]: state["is_given"] for state in api.get(reverse("api-privacy-consents")).json()}
    assert states["marketing_email"] is False
    assert ConsentRecord.objects.filter(user=buyer).count() == 3


@pytest.mark.django_db
def test_withdrawing_thank_you_consent_takes_notes_off_storefronts(buyer, shop, eager_tasks):
    from orders.models import ThankYouNote

    busy_buyer(buyer, shop)
    assert ThankYouNote.objects.get(author=buyer).show_on_storefront

    services.consent_set(user=buyer, purpose="thank_you_notes", is_given=False)

    assert not ThankYouNote.objects.get(author=buyer).show_on_storefront


@pytest.mark.django_db
def test_export_is_built_announced_and_downloadable_by_its_owner_only(
    buyer, other_buyer, shop, staff_user, eager_tasks, django_capture_on_commit_callbacks
):
    busy_buyer(buyer, shop)
    client = signed_in(buyer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:export_request"))
    assert response.status_code == 302
    export = DataExport.objects.get(user=buyer)
    assert export.status == DataExport.Status.READY and export.format_version == "1"
    assert Notification.objects.filter(recipient=buyer, kind="export.ready").count() == 1
    with pytest.raises(ValueError):
        export.file.url  # noqa: B018 - private storage has no address

    download = client.get(export.get_absolute_url())
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert data["format"] == "plural-export" and data["format_version"] == "1"
    sections = data["sections"]
    assert sections["profile"]["email"] == "bea.quill@example.com"
    assert [row["line1"] for row in sections["addresses"]] == ["7 Quillfeather Lane"]
    assert [row["title"] for row in sections["reviews_written"]] == ["Superb"]
    assert len(sections["orders"]) == 1 and sections["wants"][0]["text"] == "Atlas of Lakes"
    assert "orders.csv" in archive.namelist() and "schema.json" in archive.namelist()
    assert "An Atlas of Rivers" in archive.read("orders.csv").decode()

    for stranger in (other_buyer, staff_user, shop.owner):
        assert signed_in(stranger).get(export.get_absolute_url()).status_code == 404
        url = reverse("api-privacy-export-download", kwargs={"pk": export.pk})
        assert signed_in(stranger, api=True).get(url).status_code == 404
    assert Client().get(export.get_absolute_url()).status_code == 302

    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(export.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_a_shop_owners_export_carries_the_shop_and_its_reputation(
    buyer, shop, eager_tasks, django_capture_on_commit_callbacks
):
    busy_buyer(buyer, shop)
    busy_shop(shop)
    with django_capture_on_commit_callbacks(execute=True):
        services.export_request(user=shop.owner)
    export = DataExport.objects.get(user=shop.owner)
    archive = zipfile.ZipFile(export.file.open("rb"))
    sections = json.loads(archive.read("data.json"))["sections"]
    assert sections["shop"]["slug"] == shop.slug
    assert {row["title"] for row in sections["shop_listings"]} >= {"Maps of the Moon", "Tide Tables 1911"}
    [review] = sections["shop_reviews_received"]
    assert (review["stars"], review["title"], review["created_at"][:4]) == (5, "Superb", str(timezone.now().year))
    assert len(sections["shop_ratings_received"]) == 1
    [image] = sections["shop_listing_images"]
    assert image["file"] in archive.namelist()
    assert "shop/listings.csv" in archive.namelist()
    assert "7 Quillfeather Lane" not in archive.read("shop/orders.csv").decode()


@pytest.mark.django_db
def test_deletion_needs_the_password_and_settled_orders(buyer, shop, eager_tasks):
    from orders.models import Order

    busy_buyer(buyer, shop)
    owner_client = signed_in(shop.owner)
    Order.objects.update(state="paid")
    response = owner_client.post(
        reverse("accounts:account_delete"), {"password": "correct horse battery staple", "confirm": "on"}
    )
    assert response.status_code == 400 and b"open order" in response.content
    assert shop.owner.__class__.objects.get(pk=shop.owner.pk).erased_at is None
    Order.objects.update(state="completed")

    client = signed_in(buyer)
    response = client.post(reverse("accounts:account_delete"), {"password": "wrong", "confirm": "on"})
    assert response.status_code == 400
    assert buyer.__class__.objects.get(pk=buyer.pk).erased_at is None

    response = client.post(
        reverse("accounts:account_delete"), {"password": "correct horse battery staple", "confirm": "on"}
    )
    assert response.status_code == 302
    assert buyer.__class__.objects.get(pk=buyer.pk).erased_at is not None
    assert client.get(reverse("accounts:privacy")).status_code == 302  # signed out


@pytest.mark.django_db
def test_moderators_reads_and_operators_reads_show_in_the_access_log(buyer, shop, staff_user, eager_tasks):
    from messaging import services as messaging_services
    from messaging.models import Conversation

    busy_buyer(buyer, shop)
    conversation = Conversation.objects.get(buyer=buyer)
    messaging_services.report_create(conversation=conversation, reporter=shop.owner, reason="spam")
    staff_user.is_superuser = True
    staff_user.save()
    moderator = signed_in(staff_user)
    assert moderator.get(conversation.get_absolute_url()).status_code == 200
    address = buyer.addresses.get()
    admin_url = reverse("admin:orders_address_change", args=[address.pk])
    asked = moderator.get(admin_url)
    assert asked.status_code == 200 and b"reason" in asked.content
    assert DataAccess.objects.count() == 0
    assert moderator.get(admin_url, {"access_reason": "Courier asked to confirm the postcode"}).status_code == 200

    [access] = DataAccess.objects.all()
    assert (access.subject, access.accessed_by, access.what) == (buyer, staff_user, "address")
    log = signed_in(buyer, api=True).get(reverse("api-privacy-access-log")).json()
    reasons = [entry["reason"] for entry in log]
    assert "Courier asked to confirm the postcode" in reasons
    assert any(entry["reason"].startswith("It was reported") for entry in log)
    assert b"Courier asked" in signed_in(buyer).get(reverse("accounts:privacy")).content


@pytest.mark.django_db
def test_retention_purge_removes_what_is_kept_too_long(buyer, shop, eager_tasks, django_capture_on_commit_callbacks):
    from messaging.models import Conversation
    from social.models import RecommendationEvent

    busy_buyer(buyer, shop)
    with django_capture_on_commit_callbacks(execute=True):
        services.export_request(user=buyer)
    export = DataExport.objects.get(user=buyer)
    old = timezone.now() - timedelta(days=1000)
    DataExport.objects.filter(pk=export.pk).update(expires_at=old)
    Conversation.objects.update(last_message_at=old)
    RecommendationEvent.objects.create(user=buyer, kind="view", listing=shop.listings.first(), created_at=old)

    purged = services.retention_purge()

    assert purged["expired_exports"] == 1 and purged["closed_conversations"] == 1 and purged["view_events"] == 1
    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED and not export.file
    assert services.retention_purge()["expired_exports"] == 0


@pytest.mark.django_db
def test_breach_notice_needs_a_description_and_tells_each_person(buyer, other_buyer, staff_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.breach_notify(sent_by=staff_user, title="Leak", description=" ", recipients=[buyer])
    assert BreachNotice.objects.count() == 0

    notice = services.breach_notify(
        sent_by=staff_user,
        title="Addresses exposed",
        description="A backup was readable for two hours.",
        recipients=[buyer, other_buyer],
    )

    assert notice.recipients_count == 2
    sent = Notification.objects.filter(kind="privacy.breach").order_by("recipient__username")
    assert [n.recipient for n in sent] == [buyer, other_buyer]
    assert sent[0].body == "A backup was readable for two hours." and sent[0].deliveries.count() == 1


def _reported_conversation(buyer, shop):
    from messaging import services as messaging_services
    from messaging.models import Conversation

    conversation = Conversation.objects.get(buyer=buyer)
    messaging_services.report_create(conversation=conversation, reporter=shop.owner, reason="spam")
    return reverse("messaging:conversation", kwargs={"pk": conversation.pk})


def _reported_conversation_api(buyer, shop):
    from messaging.models import Conversation

    _reported_conversation(buyer, shop)
    return reverse("api-conversation", kwargs={"pk": Conversation.objects.get(buyer=buyer).pk})


def _escalated_case(buyer, shop):
    from orders import services as order_services
    from orders.lifecycle import Actor
    from orders.models import Case, Order

    case = order_services.case_open(order=Order.objects.get(buyer=buyer), actor=buyer, reason="damaged")
    Case.objects.filter(pk=case.pk).update(answer_due_at=timezone.now() - timedelta(minutes=1))
    order_services.case_escalate(case=Case.objects.get(pk=case.pk), actor=buyer, by=Actor.BUYER)
    return reverse("orders:case", kwargs={"pk": case.pk})


def _admin_of(name):
    def path(buyer, shop):
        from orders.models import Address, Order

        obj = {"user": buyer, "address": Address.objects.get(user=buyer), "order": Order.objects.get(buyer=buyer)}
        label = {"user": "accounts_user", "address": "orders_address", "order": "orders_order"}[name]
        url = reverse(f"admin:{label}_change", args=[obj[name].pk])
        return f"{url}?access_reason=Checking+a+complaint"

    return path


STAFF_READ_PATHS = {
    "reported conversation page": _reported_conversation,
    "reported conversation API": _reported_conversation_api,
    "escalated case page": _escalated_case,
    "admin: the account": _admin_of("user"),
    "admin: an address": _admin_of("address"),
    "admin: an order": _admin_of("order"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_READ_PATHS.values(), ids=STAFF_READ_PATHS.keys())
def test_every_staff_read_path_shows_in_the_persons_access_log(path, buyer, shop, staff_user, eager_tasks):
    busy_buyer(buyer, shop)
    staff_user.is_superuser = True
    staff_user.save()
    url = path(buyer, shop)
    before = len(signed_in(buyer, api=True).get(reverse("api-privacy-access-log")).json())

    client = signed_in(staff_user, api="api/" in url)
    assert client.get(url).status_code == 200

    log = signed_in(buyer, api=True).get(reverse("api-privacy-access-log")).json()
    assert len(log) == before + 1
    assert log[0]["by"] in {"stella", "Stella Staff"} and log[0]["reason"]


@pytest.mark.django_db
def test_the_privacy_page_and_api_cost_the_same_however_much_is_held(
    buyer, other_buyer, shop, eager_tasks, django_assert_num_queries
):
    busy_buyer(buyer, shop)
    DataAccess.objects.bulk_create(
        DataAccess(subject=buyer, accessed_by_name="stella", what="address", reason=f"Check {number}")
        for number in range(5)
    )
    for person in (other_buyer, buyer):
        page, api = signed_in(person), signed_in(person, api=True)
        # session, user; the counts; sharing, consents, shown notes; exports; three access logs; two header counts
        with django_assert_num_queries(12):
            assert page.get(reverse("accounts:privacy")).status_code == 200
        # the counts, exports
        with django_assert_num_queries(2):
            assert api.get(reverse("api-privacy")).status_code == 200
        with django_assert_num_queries(3):
            assert api.get(reverse("api-privacy-access-log")).status_code == 200


@pytest.mark.django_db
def test_deleting_through_the_api_needs_the_password(buyer, shop, eager_tasks):
    busy_buyer(buyer, shop)
    api = signed_in(buyer, api=True)
    assert api.post(reverse("api-privacy-delete"), {"password": "wrong"}).status_code == 400
    assert buyer.__class__.objects.get(pk=buyer.pk).erased_at is None

    response = api.post(
        reverse("api-privacy-delete"), {"password": "correct horse battery staple", "delete_reviews": True}
    )

    assert response.status_code == 204
    assert buyer.__class__.objects.get(pk=buyer.pk).erased_at is not None
    assert not buyer.__class__.objects.get(pk=buyer.pk).is_active


@pytest.mark.django_db
def test_importing_through_the_api_answers_what_came_in(buyer, other_buyer, shop, eager_tasks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts import exports

    busy_buyer(buyer, shop)
    archive = SimpleUploadedFile("export.zip", exports.build(buyer), content_type="application/zip")

    response = signed_in(other_buyer, api=True).post(
        reverse("api-privacy-import"), {"archive": archive, "include_shop": False}, format="multipart"
    )

    assert response.status_code == 201
    assert response.json()["counts"]["addresses"] == 1
    assert other_buyer.addresses.get().line1 == "7 Quillfeather Lane"
    bad = SimpleUploadedFile("export.zip", b"nope")
    response = signed_in(other_buyer, api=True).post(
        reverse("api-privacy-import"), {"archive": bad}, format="multipart"
    )
    assert response.status_code == 400 and "archive" in response.json()


@pytest.mark.django_db
def test_the_breach_notice_admin_action_asks_for_a_description_then_notifies(buyer, other_buyer, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    admin = signed_in(staff_user)
    url = reverse("admin:accounts_user_changelist")
    chosen = {"action": "send_breach_notice", "_selected_action": [buyer.pk, other_buyer.pk]}

    asked = admin.post(url, chosen)
    assert asked.status_code == 200 and b"Send the notice" in asked.content
    refused = admin.post(url, {**chosen, "send_notice": "1", "title": "Leak", "description": ""})
    assert refused.status_code == 200 and BreachNotice.objects.count() == 0

    sent = admin.post(
        url, {**chosen, "send_notice": "1", "title": "Leak", "description": "A backup was readable for an hour."}
    )

    assert sent.status_code == 302
    assert BreachNotice.objects.get().recipients_count == 2
    assert Notification.objects.filter(kind="privacy.breach").count() == 2


@pytest.mark.django_db
def test_a_breach_notice_reaches_people_who_turned_notifications_off(buyer, staff_user):
    from notifications.services import preferences_update

    preferences_update(user=buyer, choices={"privacy.breach": {"in_app": False, "email": "off"}})

    services.breach_notify(
        sent_by=staff_user, title="Leak", description="Passwords were not exposed.", recipients=[buyer]
    )

    notification = Notification.objects.get(recipient=buyer, kind="privacy.breach")
    assert notification.in_app and notification.deliveries.count() == 1
