"""Keeping the search index in step with the listings: the services reindex on commit, the rebuild
command starts over, the lexicon follows. Runs on SQLite (FTS5) and on PostgreSQL (tsvector)."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog import search, services
from catalog.models import Condition, Listing, SearchDocument, SearchTerm
from tests.catalog.search_helpers import listing, search_for, tag, titles

pytestmark = pytest.mark.django_db


def _found(text: str) -> list[str]:
    return titles(search_for(q=text, sort="newest"))


def _lexicon() -> dict[str, int]:
    return dict(SearchTerm.objects.values_list("term", "listing_count"))


def _create(shop, actor, title, **fields):
    return services.listing_create(
        shop=shop, actor=actor, title=title, price="9.50", condition="good", status="active", **fields
    )


def test_a_listing_created_through_the_service_is_found_after_commit(
    shop, shop_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _create(shop, shop_owner, "Herbarium of Wales", creator="Gwen Price")

    assert _found("herbarium") == ["Herbarium of Wales"]
    assert _lexicon() == {"herbarium": 1, "wales": 1, "gwen": 1, "price": 1}


def test_nothing_is_indexed_when_the_transaction_rolls_back(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _create(shop, shop_owner, "Herbarium of Wales")
        raise RuntimeError("the request failed after the listing was saved")

    assert Listing.objects.count() == 0
    assert SearchDocument.objects.count() == 0
    assert search_for(q="herbarium").count == 0


def test_an_edit_replaces_the_words_and_moves_the_lexicon(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = _create(shop, shop_owner, "Herbarium of Wales")
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_update(listing=item, actor=shop_owner, title="Herbarium of Cornwall")

    assert _found("cornwall") == ["Herbarium of Cornwall"]
    assert _found("wales") == []
    assert _lexicon() == {"herbarium": 1, "cornwall": 1}


@pytest.mark.parametrize("status", ["paused", "draft"])
def test_pausing_or_taking_back_to_draft_takes_a_listing_out_and_reactivating_brings_it_back(
    shop, shop_owner, status, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        item = _create(shop, shop_owner, "Herbarium of Wales")
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_set_status(listing=item, actor=shop_owner, status=status)

    assert _found("herbarium") == []
    assert not SearchDocument.objects.filter(listing_id=item.pk).exists()
    assert _lexicon() == {}

    with django_capture_on_commit_callbacks(execute=True):
        services.listing_set_status(listing=item, actor=shop_owner, status="active")

    assert _found("herbarium") == ["Herbarium of Wales"]


def test_a_sold_out_listing_stays_in_the_index_for_its_storefront(shop, shop_owner, django_capture_on_commit_callbacks):
    from sellers.selectors import storefront_listings

    with django_capture_on_commit_callbacks(execute=True):
        item = _create(shop, shop_owner, "Herbarium of Wales")
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_update(listing=item, actor=shop_owner, quantity=0)

    assert Listing.objects.get(pk=item.pk).status == "sold_out"
    assert _found("herbarium") == []
    assert [each.pk for each in storefront_listings(shop=shop, query="herbarium")] == [item.pk]


def test_a_deleted_listing_leaves_the_index_and_the_lexicon(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kept = _create(shop, shop_owner, "Herbarium of Wales")
        gone = _create(shop, shop_owner, "Herbarium of Kent")
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_delete(listing=gone, actor=shop_owner)

    assert _found("herbarium") == ["Herbarium of Wales"]
    assert list(SearchDocument.objects.values_list("listing_id", flat=True)) == [kept.pk]
    assert _lexicon() == {"herbarium": 1, "wales": 1}


def test_a_duplicate_is_a_draft_and_is_not_found(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = _create(shop, shop_owner, "Herbarium of Wales")
        services.listing_duplicate(listing=item, actor=shop_owner)

    assert Listing.objects.count() == 2
    assert _found("herbarium") == ["Herbarium of Wales"]
    assert SearchDocument.objects.count() == 1


def test_bulk_pause_takes_the_chosen_listings_out(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _create(shop, shop_owner, "Herbarium one")
        second = _create(shop, shop_owner, "Herbarium two")
        _create(shop, shop_owner, "Herbarium three")
    with django_capture_on_commit_callbacks(execute=True):
        services.listings_bulk_pause(shop=shop, actor=shop_owner, listing_ids=[first.pk, second.pk])

    assert _found("herbarium") == ["Herbarium three"]


def test_a_refused_change_leaves_the_index_as_it_was(shop, shop_owner, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    with django_capture_on_commit_callbacks(execute=True):
        item = _create(shop, shop_owner, "Herbarium of Wales")
    before = list(SearchDocument.objects.values_list("listing_id", "terms"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        services.listing_update(listing=item, actor=shop_owner, title="", price="-3")

    assert callbacks == []
    assert list(SearchDocument.objects.values_list("listing_id", "terms")) == before


def test_many_changes_in_one_transaction_reindex_once(shop, shop_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as captured, transaction.atomic():
        item = _create(shop, shop_owner, "Herbarium of Wales")
        services.listing_update(listing=item, actor=shop_owner, title="Herbarium of Kent")
        services.listing_update(listing=item, actor=shop_owner, creator="Ann Field")
    # The search index's own callbacks (putting a listing on sale also hands it to social).
    callbacks = [callback for callback in captured if callback.__name__ == "reindex_pending"]

    with CaptureQueriesContext(connection) as first:
        callbacks[0]()
    with CaptureQueriesContext(connection) as others:
        for callback in callbacks[1:]:
            callback()

    assert len(callbacks) == 3
    assert len(first.captured_queries) > 0
    assert others.captured_queries == []
    assert _lexicon() == {"herbarium": 1, "kent": 1, "ann": 1, "field": 1}


def test_tags_of_the_document_follow_merges_and_hiding(shop, buyer):
    item = listing(shop, "Green things", creator="")
    tomato = tag(item, "tomato", by=buyer)
    assert _found("tomato") == ["Green things"]

    tomato.is_hidden, tomato.hidden_reason = True, "offensive"
    tomato.save()
    search.reindex_listings(listing_ids=[item.pk])

    assert _found("tomato") == []
    assert _lexicon() == {"green": 1, "things": 1}


def test_rebuild_repairs_an_index_that_missed_changes(shop, buyer):
    found = listing(shop, "Herbarium of Wales", creator="")
    missed = listing(shop, "Herbarium of Kent", creator="")
    # Changes that went around the services: the index does not know about them.
    Listing.objects.filter(pk=found.pk).update(title="Herbarium of Devon")
    Listing.objects.filter(pk=missed.pk).update(status="paused")
    SearchTerm.objects.create(term="stale", listing_count=7)
    output = io.StringIO()

    call_command("rebuild_search_index", batch_size=1, stdout=output)

    assert "rebuilt: 1 listings" in output.getvalue()
    assert _found("devon") == ["Herbarium of Devon"]
    assert _found("kent") == []
    assert _lexicon() == {"herbarium": 1, "devon": 1}


def test_imported_rows_are_found(shop, shop_owner, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sellers import imports

    data = "sku,title,author,price,quantity,condition\nH1,Herbarium of Wales,Gwen Price,9.50,1,good\n"
    upload = SimpleUploadedFile("stock.csv", data.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.inventory_import_start(shop=shop, actor=shop_owner, data_file=upload)
    with django_capture_on_commit_callbacks(execute=True):
        imports.inventory_import_run(import_id=job.pk)

    assert _found("herbarium gwen") == ["Herbarium of Wales"]
    assert Condition.objects.filter(slug="good").exists()


def test_tagging_through_its_services_reindexes_the_listing(
    shop, shop_owner, buyer, staff_user, django_capture_on_commit_callbacks
):
    from catalog import tagging

    with django_capture_on_commit_callbacks(execute=True):
        item = _create(shop, shop_owner, "Herbarium of Wales")
    # a shopper's tag makes the listing findable by it
    with django_capture_on_commit_callbacks(execute=True):
        tagging.tag_apply(listing=item, user=buyer, name="Pressed Flowers")
    assert _found("pressed flowers") == ["Herbarium of Wales"]

    # a moderator hiding the tag takes it out of the index
    with django_capture_on_commit_callbacks(execute=True):
        tagging.tag_hide(tag=tagging.find_tag(name="pressed flowers"), actor=staff_user, reason="spam")
    assert _found("pressed flowers") == []

    # and removing one's own application leaves nothing behind once unhidden
    with django_capture_on_commit_callbacks(execute=True):
        tagging.tag_unhide(tag=tagging.find_tag(name="pressed flowers"), actor=staff_user)
    assert _found("pressed flowers") == ["Herbarium of Wales"]
    with django_capture_on_commit_callbacks(execute=True):
        tagging.tag_remove(listing=item, user=buyer, slug="pressed-flowers")
    assert _found("pressed flowers") == []
