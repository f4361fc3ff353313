"""An activity is never shown to anyone outside its audience: every feed, profile and list
endpoint (pages and API) for each audience a person can choose, for each kind of viewer,
after the choice changes, after withdrawal, and after consent is withdrawn."""

import pytest

from catalog import tagging
from social import services
from social.models import Activity, ActivityKind, Audience
from tests.factories import ListingFactory
from tests.sharing import share

pytestmark = pytest.mark.django_db

MARKER = "Unmistakable Herbarium"
VIEWERS = ("self", "friend", "fan", "stranger", "anonymous")
# Who may see an activity shared with each audience (on a profile or a person's activity).
ALLOWED = {
    Audience.ONLY_ME: {"self"},
    Audience.FOLLOWED_BACK: {"self", "friend"},
    Audience.FOLLOWERS: {"self", "friend", "fan"},
    Audience.EVERYONE: set(VIEWERS),
}
# What each endpoint can show at most, whatever the audience: the following feed shows the
# people one follows (not oneself), nearby shows others near me, everyone only public activity.
ENDPOINTS = {
    "feed page": ("/feed/", {"friend", "fan"}),
    "feed api": ("/api/feed/?view=following", {"friend", "fan"}),
    "feed api, kind": ("/api/feed/?view=following&kind={kind}", {"friend", "fan"}),
    "nearby page": ("/feed/nearby/", {"friend", "fan", "stranger"}),
    "nearby api": ("/api/feed/?view=nearby", {"friend", "fan", "stranger"}),
    "everyone page": ("/feed/everyone/", "public"),
    "everyone api": ("/api/feed/?view=everyone", "public"),
    "profile page": ("/people/bea/", set(VIEWERS)),
    "person activity api": ("/api/people/bea/activity/", set(VIEWERS)),
}
TAGGED_ENDPOINTS = {
    "followed tags page": ("/tags/following/", {"friend", "fan"}),
    "people tagged api": ("/api/tags/following/people/", {"friend", "fan"}),
    # A person's tag index is their tagging too: on the profile, the tag page narrowed to them, the API.
    "profile tag index": ("/people/bea/", set(VIEWERS)),
    "tag page by the person": ("/tags/pressed-flowers/?by=bea", set(VIEWERS)),
    "person tags api": ("/api/people/bea/tags/", set(VIEWERS)),
}


@pytest.fixture
def cast(buyer, other_buyer, fan, stranger):
    """Bea acts; Otto and Bea follow each other; Fay follows Bea; Sid follows nobody."""
    services.follow_create(follower=buyer, person=other_buyer)
    services.follow_create(follower=other_buyer, person=buyer)
    return {"self": buyer, "friend": other_buyer, "fan": fan, "stranger": stranger, "anonymous": None}


@pytest.fixture
def clients(cast, signed_in, api):
    return {name: (signed_in(person), api(person)) for name, person in cast.items()}


def _bought(buyer, shop) -> Activity:
    listing = ListingFactory(shop=shop, title=MARKER)
    return services.activity_record(actor=buyer, kind=ActivityKind.BOUGHT, target=listing)


def _tagged(buyer, shop) -> Activity:
    listing = ListingFactory(shop=shop, title=MARKER)
    tagging.tag_apply(listing=listing, user=buyer, name="pressed flowers")
    return Activity.objects.get(actor=buyer, kind=ActivityKind.TAGGED)


def _sees(clients, viewer: str, url: str) -> bool:
    page_client, api_client = clients[viewer]
    client = api_client if url.startswith("/api/") else page_client
    response = client.get(url)
    if response.status_code in {302, 404}:  # sign in first / not for visitors
        return False
    if viewer == "anonymous" and response.status_code == 403:  # the API asks visitors to sign in
        return False
    assert response.status_code == 200, (url, viewer, response.status_code)
    return MARKER in response.content.decode()


def _who_sees(clients, url: str) -> set[str]:
    return {viewer for viewer in VIEWERS if _sees(clients, viewer, url)}


def _expected(level: int, reach) -> set[str]:
    if reach == "public":
        return set(VIEWERS) if level == Audience.EVERYONE else set()
    return ALLOWED[level] & reach


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("level", list(Audience))
def test_a_purchase_is_seen_exactly_by_its_audience(cast, clients, shop, endpoint, level):
    share(cast["self"], bought=level)
    _bought(cast["self"], shop)
    url, reach = ENDPOINTS[endpoint]

    assert _who_sees(clients, url.format(kind="bought")) == _expected(level, reach)


@pytest.mark.parametrize("endpoint", TAGGED_ENDPOINTS)
@pytest.mark.parametrize("level", list(Audience))
def test_what_people_i_follow_tagged_is_seen_exactly_by_its_audience(cast, clients, shop, endpoint, level):
    share(cast["self"], tagged=level)
    _tagged(cast["self"], shop)
    url, reach = TAGGED_ENDPOINTS[endpoint]

    assert _who_sees(clients, url) == _expected(level, reach)


@pytest.mark.parametrize("endpoint", {**ENDPOINTS, **TAGGED_ENDPOINTS})
def test_before_choosing_to_share_nobody_else_sees_anything(cast, clients, shop, endpoint):
    _bought(cast["self"], shop)
    _tagged(cast["self"], shop)
    url, _ = {**ENDPOINTS, **TAGGED_ENDPOINTS}[endpoint]

    assert _who_sees(clients, url.format(kind="bought")) - {"self"} == set()
    assert set(Activity.objects.values_list("audience", flat=True)) == {Audience.ONLY_ME}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_changed_choice_applies_to_past_activity_both_ways(cast, clients, shop, endpoint):
    url, reach = ENDPOINTS[endpoint]
    url = url.format(kind="bought")
    share(cast["self"], bought=Audience.EVERYONE)
    _bought(cast["self"], shop)
    assert _who_sees(clients, url) == _expected(Audience.EVERYONE, reach)

    share(cast["self"], bought=Audience.FOLLOWED_BACK)
    assert _who_sees(clients, url) == _expected(Audience.FOLLOWED_BACK, reach)

    share(cast["self"], bought=Audience.ONLY_ME)
    assert _who_sees(clients, url) == _expected(Audience.ONLY_ME, reach)

    share(cast["self"], bought=Audience.FOLLOWERS)
    assert _who_sees(clients, url) == _expected(Audience.FOLLOWERS, reach)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_withdrawn_activity_is_gone_from_every_feed_for_everyone(cast, clients, shop, endpoint):
    url, _ = ENDPOINTS[endpoint]
    url = url.format(kind="bought")
    share(cast["self"], bought=Audience.EVERYONE)
    activity = _bought(cast["self"], shop)

    assert services.activity_withdraw(actor=cast["self"], activity_id=activity.pk) is True

    assert _who_sees(clients, url) == set()
    assert not Activity.objects.filter(pk=activity.pk).exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_withdrawing_consent_takes_everything_out_of_every_feed_at_once(cast, clients, shop, endpoint):
    url, reach = ENDPOINTS[endpoint]
    url = url.format(kind="bought")
    share(cast["self"], bought=Audience.EVERYONE)
    _bought(cast["self"], shop)

    services.sharing_withdraw(user=cast["self"])
    assert _who_sees(clients, url) == _expected(Audience.ONLY_ME, reach)

    share(cast["self"], bought=Audience.EVERYONE)
    assert _who_sees(clients, url) == _expected(Audience.EVERYONE, reach)


def test_nobody_can_withdraw_someone_elses_activity(cast, clients, shop):
    share(cast["self"], bought=Audience.EVERYONE)
    activity = _bought(cast["self"], shop)

    for viewer in ("friend", "stranger"):
        page_client, api_client = clients[viewer]
        assert page_client.post(f"/activity/{activity.pk}/withdraw/").status_code == 404
        assert api_client.delete(f"/api/activity/{activity.pk}/").status_code == 404
    assert clients["anonymous"][1].delete(f"/api/activity/{activity.pk}/").status_code == 403

    assert Activity.objects.filter(pk=activity.pk).exists()
    assert _who_sees(clients, "/feed/everyone/") == set(VIEWERS)


def test_a_follower_removed_by_the_person_no_longer_sees_followers_only_activity(cast, clients, shop):
    share(cast["self"], bought=Audience.FOLLOWERS)
    _bought(cast["self"], shop)
    assert _sees(clients, "fan", "/people/bea/")

    assert clients["self"][0].post("/followers/fay/remove/").status_code == 302

    assert not _sees(clients, "fan", "/people/bea/")
    assert not _sees(clients, "fan", "/feed/")


def test_a_listing_no_longer_for_sale_takes_its_activity_out_of_feeds(cast, clients, shop):
    share(cast["self"], bought=Audience.EVERYONE)
    activity = _bought(cast["self"], shop)
    activity.listing.status = "paused"
    activity.listing.save()

    assert _who_sees(clients, "/feed/everyone/") == set()
    assert _who_sees(clients, "/api/feed/?view=following") == set()
    assert _sees(clients, "self", "/activity/")


def test_a_closed_account_is_seen_by_nobody(cast, clients, shop):
    share(cast["self"], bought=Audience.EVERYONE)
    _bought(cast["self"], shop)
    cast["self"].is_active = False
    cast["self"].save()

    assert _who_sees(clients, "/api/feed/?view=following") == set()
    assert _who_sees(clients, "/api/feed/?view=everyone") == set()
    assert _who_sees(clients, "/api/feed/?view=nearby") == set()
