"""Round trip: a busy seller and buyer exported here, the database emptied as a second Plural
site starts, and their exports imported there.

The "second site" is this same test database after every row of the first is deleted (the
export zips are kept in memory): a second database alias would need a second migrated schema
for a few tests, while what matters, that the import needs nothing of the first site but the
zip, holds just the same once none of its rows remain."""

import importlib
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts import exports, imports
from accounts.models import EarnedElsewhere, User
from catalog.models import Listing
from reviews.models import Review, ShopRatingSummary
from sellers.models import Shop
from tests.accounts.busy import busy_buyer, busy_shop
from tests.factories import ShopFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_a_shop_and_a_buyer_move_to_another_plural_site(buyer, shop, eager_tasks, settings):
    settings.PRIVACY_SITE_ORIGIN = "https://first.plural.example"
    busy_buyer(buyer, shop)
    busy_shop(shop)
    seller_zip, buyer_zip = exports.build(shop.owner), exports.build(buyer)
    sold_before = sorted(Listing.objects.filter(shop=shop).values_list("title", flat=True))

    # The second site: none of the first one's rows; a shop the buyer followed exists there too.
    call_command("flush", interactive=False, verbosity=0)
    assert not User.objects.exists() and not Shop.objects.exists()
    importlib.import_module("catalog.migrations.0002_default_conditions").create_conditions(apps, None)
    seller = UserFactory(username="olive2", email="olive2@example.com")
    newcomer = UserFactory(username="bea2", email="bea2@example.com")
    followed_here = ShopFactory(name="Olive's Books here", slug="olives-books", owner=UserFactory(username="x"))

    seller_result = imports.import_archive(
        user=seller, archive=SimpleUploadedFile("s.zip", seller_zip), include_shop=True
    )
    buyer_result = imports.import_archive(user=newcomer, archive=SimpleUploadedFile("b.zip", buyer_zip))

    new_shop = Shop.objects.get(slug=seller_result.shop_slug)
    assert new_shop.owner == seller and new_shop.slug == "olives-books-2"
    assert sorted(Listing.objects.filter(shop=new_shop).values_list("title", flat=True)) == sold_before
    assert Listing.objects.get(shop=new_shop, title="Maps of the Moon").images.count() == 1
    earned = {entry.kind: entry for entry in EarnedElsewhere.objects.filter(shop=new_shop)}
    earned_review, earned_rating = earned["review"], earned["rating"]
    assert (earned_review.kind, earned_review.stars, earned_review.title) == ("review", 5, "Superb")
    assert earned_review.origin == "https://first.plural.example"
    assert earned_review.written_by == "Beatrix Quillfeather"
    assert earned_rating.kind == "rating"
    # History, never mixed into this site's ratings.
    assert not Review.objects.filter(shop=new_shop).exists()
    assert not ShopRatingSummary.objects.filter(shop=new_shop, review_count__gt=0).exists()

    newcomer.refresh_from_db()
    assert (newcomer.display_name, newcomer.bio) == ("Beatrix Quillfeather", "Collects river atlases.")
    assert newcomer.addresses.get().line1 == "7 Quillfeather Lane"
    assert newcomer.wants.get().text == "Atlas of Lakes"
    assert list(newcomer.follows.values_list("shop", flat=True)) == [followed_here.pk]
    assert buyer_result.counts["favourite shops"] == 1


@pytest.mark.django_db
def test_an_archive_that_is_not_an_export_changes_nothing(buyer):
    for content in (
        b"not a zip",
        _zip_of({"format": "other"}),
        _zip_of({"format": "plural-export", "format_version": "9", "sections": {}}),
    ):
        with pytest.raises(ValidationError):
            imports.import_archive(user=buyer, archive=SimpleUploadedFile("x.zip", content))
    assert not buyer.addresses.exists()


def _zip_of(document) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.json", json.dumps(document))
    return buffer.getvalue()
