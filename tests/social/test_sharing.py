"""Choosing what to share: offered with an explanation before anything is shared, recorded
with its time and the explanation's version, changeable and withdrawable at any time."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from social import services
from social.models import ActivityKind, Audience, AudienceChoice, SharingConsent, SharingSettings, SharingSubject
from tests.factories import ListingFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2030, 3, 4, 10, 30, tzinfo=datetime.UTC)


def _form(**overrides) -> dict:
    data = {subject: str(level) for subject, level in services.DEFAULT_AUDIENCES.items()}
    data["wording_version"] = services.SHARING_WORDING_VERSION
    data["use_for_recommendations"] = "on"
    return {**data, **overrides}


def test_the_page_explains_sharing_and_offers_the_defaults_before_anything_is_shared(buyer, signed_in):
    content = signed_in(buyer).get("/sharing/").content.decode()

    assert "What sharing means on Plural" in content
    assert "You have not chosen yet: everything you do is seen by you alone." in content
    assert '<option value="0" selected>Only me</option>' in content.split('name="bought"')[1].split("</select>")[0]
    assert '<option value="3" selected>Everyone</option>' in content.split('name="reviewed"')[1].split("</select>")[0]
    assert f'value="{services.SHARING_WORDING_VERSION}"' in content
    assert not SharingConsent.objects.exists()


def test_choosing_records_the_decision_with_its_time_and_explanation(buyer, signed_in):
    with time_machine.travel(MOMENT, tick=False):
        response = signed_in(buyer).post("/sharing/", _form(bought="1"))

    assert response.status_code == 302
    consent = SharingConsent.objects.get()
    assert (consent.decision, consent.wording_version, consent.decided_at) == (
        "given",
        services.SHARING_WORDING_VERSION,
        MOMENT,
    )
    assert consent.audiences == {**{str(k): v for k, v in services.DEFAULT_AUDIENCES.items()}, "bought": 1}
    assert consent.use_for_recommendations is True
    assert SharingSettings.objects.get(user=buyer).sharing_since == MOMENT
    assert dict(AudienceChoice.objects.filter(user=buyer).values_list("subject", "audience"))["bought"] == 1


def test_a_choice_made_against_an_older_explanation_is_not_recorded(buyer, signed_in, api):
    page = signed_in(buyer).post("/sharing/", _form(wording_version="2020-01", bought="3"))
    api_answer = api(buyer).put("/api/sharing/", {**_form(wording_version="2020-01"), "use_for_recommendations": True})

    assert page.status_code == 400
    assert "The explanation above has changed since you opened this page" in page.content.decode()
    assert api_answer.status_code == 400
    assert api_answer.json() == {"wording_version": ["The explanation has changed: read the current one, then choose."]}
    assert not SharingConsent.objects.exists() and not AudienceChoice.objects.exists()


def test_an_unknown_or_missing_audience_is_refused_whole(buyer, signed_in, api):
    page = signed_in(buyer).post("/sharing/", _form(bought="7"))
    with pytest.raises(Exception, match="Choose who sees what i buy"):
        services.sharing_choose(user=buyer, audiences={"reviewed": 3}, use_for_recommendations=True)
    api_answer = api(buyer).put("/api/sharing/", {**_form(bought="everyone"), "use_for_recommendations": True})

    assert page.status_code == 400
    assert api_answer.status_code == 400
    assert "bought" in api_answer.json()
    assert not SharingConsent.objects.exists() and not AudienceChoice.objects.exists()


def test_stopping_records_it_and_makes_everything_private_at_once(buyer, shop, signed_in):
    share(buyer, bought=Audience.EVERYONE)
    activity = services.activity_record(actor=buyer, kind=ActivityKind.BOUGHT, target=ListingFactory(shop=shop))
    assert activity.audience == Audience.EVERYONE

    with time_machine.travel(MOMENT, tick=False):
        response = signed_in(buyer).post("/sharing/stop/", follow=True)

    activity.refresh_from_db()
    assert activity.audience == Audience.ONLY_ME
    assert "You share nothing now" in response.content.decode()
    assert SharingConsent.objects.order_by("decided_at").last().decision == "withdrawn"
    assert SharingConsent.objects.get(decision="withdrawn").decided_at == MOMENT
    assert not AudienceChoice.objects.filter(user=buyer).exists()
    assert SharingSettings.objects.get(user=buyer).sharing_since is None
    assert "You stopped sharing" in signed_in(buyer).get("/sharing/").content.decode()


def test_every_subject_has_a_default_and_purchases_are_private_reviews_public():
    assert set(services.DEFAULT_AUDIENCES) == set(SharingSubject.values)
    assert services.DEFAULT_AUDIENCES[SharingSubject.BOUGHT] == Audience.ONLY_ME
    assert services.DEFAULT_AUDIENCES[SharingSubject.REVIEWED] == Audience.EVERYONE


def test_the_api_offers_the_explanation_and_records_the_choice(buyer, api):
    client = api(buyer)
    offered = client.get("/api/sharing/").json()

    assert offered["is_sharing"] is False
    assert offered["audiences"] == {}
    assert offered["defaults"]["bought"] == 0
    assert "What sharing means on Plural" in offered["explanation"]
    assert offered["history"] == []

    chosen = client.put(
        "/api/sharing/",
        {
            **dict(services.DEFAULT_AUDIENCES),
            "bought": 2,
            "use_for_recommendations": False,
            "wording_version": offered["wording_version"],
        },
        format="json",
    ).json()
    assert chosen["is_sharing"] is True
    assert chosen["audiences"]["bought"] == 2
    assert chosen["use_for_recommendations"] is False
    assert [entry["decision"] for entry in chosen["history"]] == ["given"]

    stopped = client.delete("/api/sharing/").json()
    assert stopped["is_sharing"] is False
    assert [entry["decision"] for entry in stopped["history"]] == ["withdrawn", "given"]
    assert api(None).get("/api/sharing/").status_code == 403


def test_activity_recorded_before_sharing_is_shared_once_chosen(buyer, shop):
    activity = services.activity_record(actor=buyer, kind=ActivityKind.OPENED_SHOP, target=shop)
    assert activity.audience == Audience.ONLY_ME

    share(buyer, opened_shop=Audience.FOLLOWERS)

    activity.refresh_from_db()
    assert activity.audience == Audience.FOLLOWERS


def test_own_activity_page_shows_everything_with_its_audience_and_withdraws(buyer, shop, signed_in):
    share(buyer, bought=Audience.FOLLOWED_BACK)
    listing = ListingFactory(shop=shop, title="Mosses of Wales")
    activity = services.activity_record(actor=buyer, kind=ActivityKind.BOUGHT, target=listing)
    client = signed_in(buyer)

    content = client.get("/activity/").content.decode()
    assert "Mosses of Wales" in content and "Seen by: people i follow back" in content

    response = client.post(f"/activity/{activity.pk}/withdraw/", follow=True)
    assert "Withdrawn: nobody sees it any more." in response.content.decode()
    assert "Mosses of Wales" not in client.get("/activity/").content.decode()
    assert signed_in(None).get("/activity/").status_code == 302


def test_the_own_activity_api_pages_with_a_cursor(buyer, shop, api):
    share(buyer, bought=Audience.EVERYONE)
    base = timezone.now()
    for number in range(25):
        with time_machine.travel(base + datetime.timedelta(minutes=number), tick=False):
            services.activity_record(actor=buyer, kind=ActivityKind.BOUGHT, target=ListingFactory(shop=shop))
    client = api(buyer)

    first = client.get("/api/activity/").json()
    second = client.get("/api/activity/", {"cursor": first["next_cursor"]}).json()
    broken = client.get("/api/activity/", {"cursor": "not-a-cursor"})

    assert len(first["results"]) == 20 and len(second["results"]) == 5
    assert second["next_cursor"] is None and second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 25
    assert first["results"][0]["audience"] == 3 and first["results"][0]["audience_label"] == "Everyone"
    assert broken.status_code == 400
    assert broken.json() == {"cursor": ["This link to older activity is not valid."]}
