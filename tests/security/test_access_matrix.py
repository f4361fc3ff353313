"""The access-control matrix: every URL pattern of the site, pages and API, read from the
resolver, and what each of eight people gets from it, in one table.

The world (tests.security.world) has Bea's orders, offers, conversation, case, reviews, lists
and wants, Olive's shop where Sam works, and Oscar's shop beside it. Each row names the method
and the status each role gets, in the order of ROLES:

    anonymous  buyer (Bea)  other_buyer (Otto)  shop_owner (Olive)  shop_staff (Sam)
    other_shop_owner (Oscar)  moderator (Mo: may moderate reviews and tags, not staff)  staff (Stella)

"L" is "sign in first": a redirect to the login page, or 401/403 from the API. "S" is the
status page's own answer (200 with every service up, 503 without a worker). Unsafe methods are
sent with an empty body, so "400" means "reached the form and was told what is missing" where
"404" means "no such thing, as far as you know". Every request runs in a savepoint that is rolled
back, so no role's request changes what the next one sees.

A URL pattern missing from the table fails test_every_url_pattern_is_in_the_table: a new
endpoint states who may use it before it ships."""

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.security.headers import security_header_problems
from tests.security.patterns import all_patterns, kwargs_for
from tests.security.world import ROLES, build_world

pytestmark = pytest.mark.django_db

MATRIX = {
    # --- Site and accounts ---
    "home": ("get", "200 200 200 200 200 200 200 200"),
    "search": ("get", "200 200 200 200 200 200 200 200"),
    "status": ("get", "S S S S S S S S"),
    "account_login": ("get", "200 302 302 302 302 302 302 302"),
    "account_logout": ("get", "302 200 200 200 200 200 200 200"),
    "account_inactive": ("get", "200 200 200 200 200 200 200 200"),
    "account_signup": ("get", "200 302 302 302 302 302 302 302"),
    "account_reauthenticate": ("get", "L 200 200 200 200 200 200 200"),
    "account_email": ("get", "L 200 200 200 200 200 200 200"),
    "account_email_verification_sent": ("get", "200 200 200 200 200 200 200 200"),
    "account_change_password": ("get", "L 200 200 200 200 200 200 200"),
    "account_set_password": ("get", "L 302 302 302 302 302 302 302"),
    "account_reset_password": ("get", "200 200 200 200 200 200 200 200"),
    "account_confirm_login_code": ("get", "L 302 302 302 302 302 302 302"),
    "account_reset_password_from_key_done": ("get", "200 200 200 200 200 200 200 200"),
    "account_reset_password_done": ("get", "200 200 200 200 200 200 200 200"),
    "socialaccount_login_cancelled": ("get", "200 200 200 200 200 200 200 200"),
    "socialaccount_login_error": ("get", "401 401 401 401 401 401 401 401"),
    "socialaccount_signup": ("get", "L 302 302 302 302 302 302 302"),
    "socialaccount_connections": ("get", "L 200 200 200 200 200 200 200"),
    "accounts:profile_edit": ("get", "L 200 200 200 200 200 200 200"),
    "accounts:profile": ("get", "200 200 200 200 200 200 200 200"),
    # Two-factor authentication (allauth.mfa) and the sessions list: one's own, signed in. Olive
    # has an authenticator app; changing anything asks for the password again first (302).
    "mfa_index": ("get", "L 200 200 200 200 200 200 200"),
    "mfa_authenticate": ("get", "302 302 302 302 302 302 302 302"),
    "mfa_reauthenticate": ("get", "L 302 302 200 302 302 302 302"),
    "mfa_activate_totp": ("get", "L 302 302 302 302 302 302 302"),
    "mfa_deactivate_totp": ("get", "L 404 404 302 404 404 404 404"),
    "mfa_view_recovery_codes": ("get", "L 404 404 404 404 404 404 404"),
    "mfa_generate_recovery_codes": ("get", "L 302 302 302 302 302 302 302"),
    "mfa_download_recovery_codes": ("get", "L 404 404 404 404 404 404 404"),
    "mfa_list_webauthn": ("get", "L 200 200 200 200 200 200 200"),
    "mfa_add_webauthn": ("get", "L 302 302 302 302 302 302 302"),
    "mfa_reauthenticate_webauthn": ("get", "L 302 302 302 302 302 302 302"),
    "mfa_remove_webauthn": ("get", "L 302 302 302 302 302 302 302"),
    "mfa_edit_webauthn": ("get", "L 302 302 302 302 302 302 302"),
    "usersessions_list": ("get", "L 200 200 200 200 200 200 200"),
    # Privacy and one's data: one's own, signed in.
    "accounts:privacy": ("get", "L 200 200 200 200 200 200 200"),
    "accounts:privacy_consents": ("post", "L 400 400 400 400 400 400 400"),
    "accounts:export_request": ("post", "L 302 302 302 302 302 302 302"),
    "accounts:export_download": ("get", "L 404 404 404 404 404 404 404"),
    "accounts:data_import": ("get", "L 200 200 200 200 200 200 200"),
    "accounts:account_delete": ("get", "L 200 200 200 200 200 200 200"),
    "accounts:earned_elsewhere": ("get", "200 200 200 200 200 200 200 200"),
    # Personal API tokens: one's own; Bea has one.
    "accounts:api_tokens": ("get", "L 200 200 200 200 200 200 200"),
    "accounts:api_token_revoke": ("post", "L 302 404 404 404 404 404 404"),
    # --- Shops: storefront, dashboard, listings, imports ---
    "sellers:shop_create": ("get", "L 200 200 200 200 200 200 200"),
    "sellers:storefront": ("get", "200 200 200 200 200 200 200 200"),
    "sellers:shop_edit": ("get", "L 404 404 200 200 404 404 404"),
    "sellers:people": ("get", "L 404 404 200 200 404 404 404"),
    "sellers:dashboard": ("get", "L 404 404 200 200 404 404 404"),
    "sellers:listing_create": ("get", "L 404 404 200 200 404 404 404"),
    "sellers:listing_edit": ("get", "L 404 404 200 200 404 404 404"),
    "sellers:listing_status": ("post", "L 404 404 302 302 404 404 404"),
    "sellers:listing_duplicate": ("post", "L 404 404 302 302 404 404 404"),
    "sellers:listing_delete": ("get", "L 404 404 200 200 404 404 404"),
    "sellers:listing_image_remove": ("post", "L 404 404 302 302 404 404 404"),
    "imports:list": ("get", "404 404 404 200 200 404 404 404"),
    "imports:detail": ("get", "404 404 404 200 200 404 404 404"),
    "imports:report": ("get", "404 404 404 200 200 404 404 404"),
    # --- Catalog and tags ---
    "catalog:listing": ("get", "200 200 200 200 200 200 200 200"),
    "catalog:work": ("get", "200 200 200 200 200 200 200 200"),
    "catalog:categories": ("get", "200 200 200 200 200 200 200 200"),
    "catalog:category": ("get", "200 200 200 200 200 200 200 200"),
    "tags:cloud": ("get", "200 200 200 200 200 200 200 200"),
    "tags:following": ("get", "L 200 200 200 200 200 200 200"),
    "tags:moderation": ("get", "404 404 404 404 404 404 200 200"),
    "tags:merge": ("post", "404 404 404 404 404 404 400 400"),
    "tags:hide": ("post", "404 404 404 404 404 404 400 400"),
    "tags:unhide": ("post", "404 404 404 404 404 404 400 400"),
    "tags:tag": ("get", "200 200 200 200 200 200 200 200"),
    "tags:follow": ("post", "L 302 302 302 302 302 302 302"),
    "tags:unfollow": ("post", "L 302 302 302 302 302 302 302"),
    "tags:apply": ("post", "L 400 400 400 400 400 400 400"),
    "tags:remove": ("post", "L 302 404 404 404 404 404 404"),
    # --- Notifications ---
    "notifications:centre": ("get", "L 200 200 200 200 200 200 200"),
    "notifications:read_all": ("post", "L 302 302 302 302 302 302 302"),
    "notifications:open": ("post", "L 302 404 404 404 404 404 404"),
    "notifications:preferences": ("get", "L 200 200 200 200 200 200 200"),
    "notifications:unsubscribe": ("get", "200 200 200 200 200 200 200 200"),
    # --- Orders, offers, notes and cases ---
    "orders:cart": ("get", "200 200 200 200 200 200 200 200"),
    "orders:cart_add": ("post", "302 302 302 302 302 302 302 302"),
    "orders:checkout": ("get", "L 200 200 200 200 200 200 200"),
    "orders:confirmation": ("get", "L 200 404 404 404 404 404 404"),
    "orders:list": ("get", "L 200 200 200 200 200 200 200"),
    "orders:detail": ("get", "L 200 404 404 404 404 404 404"),
    "orders:payment_webhook": ("get", "404 404 404 404 404 404 404 404"),
    "orders:addresses": ("get", "L 200 200 200 200 200 200 200"),
    "orders:address_edit": ("get", "L 200 404 404 404 404 404 404"),
    "orders:address_delete": ("post", "L 302 404 404 404 404 404 404"),
    "orders:address_default": ("post", "L 302 404 404 404 404 404 404"),
    "orders:shop_orders": ("get", "L 404 404 200 200 404 404 404"),
    "orders:shop_order": ("get", "L 404 404 200 200 404 404 404"),
    "orders:packing_slip": ("get", "L 404 404 200 200 404 404 404"),
    "orders:shop_terms": ("get", "L 404 404 200 200 404 404 404"),
    "orders:statements": ("get", "L 404 404 200 200 404 404 404"),
    "orders:statement": ("get", "L 404 404 200 200 404 404 404"),
    "orders:statement_csv": ("get", "L 404 404 200 200 404 404 404"),
    "orders:offer_make": ("get", "L 200 200 200 200 200 200 200"),
    "orders:offers": ("get", "L 200 200 200 200 200 200 200"),
    "orders:offer": ("get", "L 200 404 404 404 404 404 404"),
    "orders:private_offer_make": ("get", "L 404 404 200 200 404 404 404"),
    "orders:shop_offers": ("get", "L 404 404 200 200 404 404 404"),
    "orders:shop_offer": ("get", "L 404 404 200 200 404 404 404"),
    "orders:shop_offer_terms": ("post", "L 404 404 400 400 404 404 404"),
    "orders:buyer_note": ("post", "L 400 404 404 404 404 404 404"),
    "orders:shop_note": ("post", "L 404 404 400 400 404 404 404"),
    "orders:case_open": ("get", "L 302 404 404 404 404 404 404"),
    "orders:case": ("get", "L 200 404 200 200 404 404 404"),
    "orders:moderation_cases": ("get", "L 404 404 404 404 404 404 200"),
    # --- Messages ---
    "messaging:inbox": ("get", "L 200 200 200 200 200 200 200"),
    "messaging:blocks": ("get", "L 200 200 200 200 200 200 200"),
    "messaging:unblock": ("post", "L 302 404 404 404 404 404 404"),
    "messaging:moderation": ("get", "L 404 404 404 404 404 404 200"),
    "messaging:resolve": ("post", "L 404 404 404 404 404 404 302"),
    "messaging:start": ("get", "L 200 200 200 200 200 200 200"),
    "messaging:conversation": ("get", "L 200 404 200 200 404 404 200"),
    "messaging:archive": ("post", "L 302 404 302 302 404 404 403"),
    "messaging:block": ("post", "L 404 404 404 404 404 404 403"),
    "messaging:report": ("get", "L 200 404 200 200 404 404 403"),
    "messaging:message_delete": ("post", "L 302 404 302 302 404 404 403"),
    "messaging:attachment": ("get", "L 200 404 200 200 404 404 200"),
    "messaging:shop_inbox": ("get", "L 404 404 200 200 404 404 404"),
    "messaging:conversation_offer": ("post", "L 403 404 400 400 404 404 403"),
    "messaging:order_conversation": ("post", "L 200 404 404 404 404 404 404"),
    "messaging:shop_order_conversation": ("post", "L 404 404 200 200 404 404 404"),
    "messaging:conversation_value": ("get", "L 404 404 200 200 404 404 404"),
    # --- Reviews and ratings ---
    "reviews:write_review": ("get", "L 200 404 404 404 404 404 404"),
    "reviews:write_rating": ("get", "L 200 404 404 404 404 404 404"),
    "reviews:mine": ("get", "L 200 200 200 200 200 200 200"),
    "reviews:review": ("get", "200 200 200 200 200 200 200 200"),
    "reviews:vote": ("post", "L 302 302 302 302 302 302 302"),
    "reviews:flag_review": ("post", "L 400 400 400 400 400 400 400"),
    "reviews:reply_review": ("post", "L 404 404 400 400 404 404 404"),
    "reviews:appeal": ("post", "L 400 404 400 400 404 400 400"),
    "reviews:rating": ("get", "200 200 200 200 200 200 200 200"),
    "reviews:flag_rating": ("post", "L 400 400 400 400 400 400 400"),
    "reviews:reply_rating": ("post", "L 404 404 400 400 404 404 404"),
    "reviews:listing_reviews": ("get", "200 200 200 200 200 200 200 200"),
    "reviews:shop_reviews": ("get", "200 200 200 200 200 200 200 200"),
    "reviews:shop_ratings": ("get", "200 200 200 200 200 200 200 200"),
    "reviews:dashboard": ("get", "L 404 404 200 200 404 404 404"),
    "reviews:buyer_feedback": ("get", "L 404 404 200 200 404 404 404"),
    "reviews:moderation": ("get", "404 404 404 404 404 404 200 200"),
    "reviews:decide_review": ("post", "404 404 404 404 404 404 400 400"),
    "reviews:decide_rating": ("post", "404 404 404 404 404 404 400 400"),
    "reviews:decide_appeal": ("post", "404 404 404 404 404 404 400 400"),
    # --- Social and wants ---
    "social:feed": ("get", "L 200 200 200 200 200 200 200"),
    "social:nearby": ("get", "L 200 200 200 200 200 200 200"),
    "social:everyone": ("get", "200 200 200 200 200 200 200 200"),
    "social:sharing": ("get", "L 200 200 200 200 200 200 200"),
    "social:sharing_stop": ("post", "L 302 302 302 302 302 302 302"),
    "social:activity": ("get", "L 200 200 200 200 200 200 200"),
    "social:activity_withdraw": ("post", "L 302 404 404 404 404 404 404"),
    "social:follow_person": ("post", "L 302 302 302 302 302 302 302"),
    "social:unfollow_person": ("post", "L 302 302 302 302 302 302 302"),
    "social:followers": ("get", "200 200 200 200 200 200 200 200"),
    "social:following": ("get", "200 200 200 200 200 200 200 200"),
    "social:person_favourites": ("get", "200 200 200 200 200 200 200 200"),
    "social:follower_remove": ("post", "L 302 404 404 404 404 404 404"),
    "social:follow_shop": ("post", "L 302 302 302 302 302 302 302"),
    "social:unfollow_shop": ("post", "L 302 302 302 302 302 302 302"),
    "social:shop_followers": ("get", "200 200 200 200 200 200 200 200"),
    "social:favourite_shop": ("post", "L 302 302 302 302 302 302 302"),
    "social:favourite_listing": ("post", "L 302 302 302 302 302 302 302"),
    "social:favourites": ("get", "L 200 200 200 200 200 200 200"),
    "social:favourite_list": ("get", "404 200 404 404 404 404 404 404"),
    "social:favourite_list_edit": ("get", "L 200 404 404 404 404 404 404"),
    "social:favourite_list_delete": ("post", "L 302 404 404 404 404 404 404"),
    "social:favourite_remove": ("post", "L 302 404 404 404 404 404 404"),
    "wants:list": ("get", "L 200 200 200 200 200 200 200"),
    "wants:detail": ("get", "404 200 404 404 404 404 404 404"),
    "wants:edit": ("get", "L 200 404 404 404 404 404 404"),
    "wants:delete": ("post", "L 302 404 404 404 404 404 404"),
    "wants:person": ("get", "200 200 200 200 200 200 200 200"),
    "wants:demand": ("get", "404 404 404 200 200 404 404 404"),
    # --- API ---
    "api-privacy": ("get", "L 200 200 200 200 200 200 200"),
    "api-privacy-consents": ("get", "L 200 200 200 200 200 200 200"),
    "api-privacy-access-log": ("get", "L 200 200 200 200 200 200 200"),
    "api-privacy-exports": ("get", "L 200 200 200 200 200 200 200"),
    "api-privacy-export-download": ("get", "L 404 404 404 404 404 404 404"),
    "api-privacy-import": ("post", "L 400 400 400 400 400 400 400"),
    "api-privacy-delete": ("post", "L 400 400 400 400 400 400 400"),
    "api-conversation-offers": ("post", "L 400 404 400 400 404 404 403"),
    # No conversation about Bea's order has begun yet: nobody finds one.
    "api-order-conversation": ("get", "L 404 404 404 404 404 404 404"),
    "api-shop-order-conversation": ("get", "L 404 404 404 404 404 404 404"),
    "api-shop-conversation-value": ("get", "L 404 404 200 200 404 404 404"),
    "api-status": ("get", "S S S S S S S S"),
    "api-me": ("get", "L 200 200 200 200 200 200 200"),
    "api-tokens": ("get", "L 200 200 200 200 200 200 200"),
    "api-token": ("delete", "L 200 404 404 404 404 404 404"),
    # Finding people needs words to look for.
    "api-people-search": ("get", "400 400 400 400 400 400 400 400"),
    # A shop's people (Sam's row) and copying a listing: the shop's people only.
    "api-shop-people": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-person": ("patch", "404 404 404 400 400 404 404 404"),
    "api-shop-listing-duplicate": ("post", "404 404 404 201 201 404 404 404"),
    "api-person": ("get", "200 200 200 200 200 200 200 200"),
    "api-shops": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-listings": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-listings-bulk": ("post", "404 404 404 400 400 404 404 404"),
    "api-shop-listing": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-listing-images": ("post", "404 404 404 400 400 404 404 404"),
    "api-shop-listing-image": ("post", "405 405 405 405 405 405 405 405"),
    "api-shop-imports": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-import": ("get", "404 404 404 200 200 404 404 404"),
    "api-listings": ("get", "200 200 200 200 200 200 200 200"),
    "api-listing": ("get", "200 200 200 200 200 200 200 200"),
    "api-work": ("get", "200 200 200 200 200 200 200 200"),
    "api-categories": ("get", "200 200 200 200 200 200 200 200"),
    "api-search": ("get", "200 200 200 200 200 200 200 200"),
    "api-search-suggestions": ("get", "400 400 400 400 400 400 400 400"),
    "api-tags": ("get", "200 200 200 200 200 200 200 200"),
    "api-tags-following": ("get", "L 200 200 200 200 200 200 200"),
    "api-tag": ("get", "200 200 200 200 200 200 200 200"),
    "api-tag-listings": ("get", "200 200 200 200 200 200 200 200"),
    "api-tag-follow": ("post", "L 201 201 201 201 201 201 201"),
    "api-tag-merge": ("post", "L 404 404 404 404 404 400 400"),
    "api-tag-hide": ("post", "L 404 404 404 404 404 400 400"),
    "api-tag-unhide": ("post", "L 404 404 404 404 404 400 400"),
    "api-listing-tags": ("get", "200 200 200 200 200 200 200 200"),
    "api-listing-tag": ("post", "L 405 405 405 405 405 405 405"),
    "api-person-tags": ("get", "404 200 404 404 404 404 404 404"),
    "api-notifications": ("get", "L 200 200 200 200 200 200 200"),
    "api-notifications-unread": ("get", "L 200 200 200 200 200 200 200"),
    "api-notifications-read-all": ("post", "L 200 200 200 200 200 200 200"),
    "api-notification-preferences": ("get", "L 200 200 200 200 200 200 200"),
    "api-notification-read": ("post", "L 200 404 404 404 404 404 404"),
    "api-cart": ("get", "200 200 200 200 200 200 200 200"),
    "api-cart-items": ("post", "400 400 400 400 400 400 400 400"),
    "api-cart-item": ("post", "405 405 405 405 405 405 405 405"),
    "api-checkout": ("post", "L 400 400 400 400 400 400 400"),
    "api-addresses": ("get", "L 200 200 200 200 200 200 200"),
    "api-address": ("get", "404 200 404 404 404 404 404 404"),
    "api-orders": ("get", "L 200 200 200 200 200 200 200"),
    "api-order": ("get", "404 200 404 404 404 404 404 404"),
    "api-order-transitions": ("post", "404 400 404 404 404 404 404 404"),
    "api-shop-orders": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-order": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-order-transitions": ("post", "404 404 404 400 400 404 404 404"),
    "api-shop-order-terms": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-statements": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-statement": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-completion-rate": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-offer-terms": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-private-offers": ("post", "404 404 404 400 400 404 404 404"),
    "api-shop-offers": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-offer": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-offer-actions": ("post", "404 404 404 400 400 404 404 404"),
    "api-offers": ("get", "L 200 200 200 200 200 200 200"),
    "api-offer": ("get", "404 200 404 404 404 404 404 404"),
    "api-offer-actions": ("post", "404 400 404 404 404 404 404 404"),
    "api-offer-order": ("post", "404 400 404 404 404 404 404 404"),
    "api-order-notes": ("get", "404 200 404 404 404 404 404 404"),
    "api-shop-order-notes": ("get", "404 404 404 200 200 404 404 404"),
    "api-shop-kind-words": ("get", "200 200 200 200 200 200 200 200"),
    "api-order-cases": ("post", "404 400 404 404 404 404 404 404"),
    "api-cases": ("get", "L 200 200 200 200 200 200 200"),
    "api-case": ("get", "404 200 404 200 200 404 404 404"),
    "api-case-steps": ("post", "404 400 404 400 400 404 404 404"),
    "api-moderation-cases": ("get", "404 404 404 404 404 404 404 200"),
    "api-conversations": ("get", "L 200 200 200 200 200 200 200"),
    "api-conversations-unread": ("get", "L 200 200 200 200 200 200 200"),
    "api-conversation": ("get", "L 200 404 200 200 404 404 200"),
    "api-conversation-messages": ("get", "L 200 404 200 200 404 404 200"),
    "api-conversation-message": ("post", "L 405 405 405 405 405 405 405"),
    "api-conversation-read": ("post", "L 200 404 200 200 404 404 403"),
    "api-conversation-archive": ("post", "L 200 404 200 200 404 404 403"),
    "api-conversation-reports": ("post", "L 400 404 400 400 404 404 403"),
    "api-blocks": ("get", "L 200 200 200 200 200 200 200"),
    "api-block": ("post", "L 405 405 405 405 405 405 405"),
    "api-moderation-reports": ("get", "L 404 404 404 404 404 404 200"),
    "api-moderation-report-resolve": ("post", "L 404 404 404 404 404 404 400"),
    "api-listing-reviews": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-reviews": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-ratings": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-rating-summary": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-order-buyer-feedback": ("get", "404 404 404 200 200 404 404 404"),
    "api-order-feedback": ("get", "404 200 404 404 404 404 404 404"),
    "api-reviews": ("get", "L 200 200 200 200 200 200 200"),
    "api-review": ("get", "200 200 200 200 200 200 200 200"),
    "api-review-revisions": ("get", "200 200 200 200 200 200 200 200"),
    "api-review-vote": ("post", "L 400 201 400 400 201 201 201"),
    "api-review-flags": ("post", "L 400 400 400 400 400 400 400"),
    "api-review-reply": ("post", "L 404 404 400 400 404 404 404"),
    "api-review-moderation": ("get", "404 200 404 200 200 404 200 200"),
    "api-ratings": ("get", "L 200 200 200 200 200 200 200"),
    "api-rating": ("get", "200 200 200 200 200 200 200 200"),
    "api-rating-revisions": ("get", "200 200 200 200 200 200 200 200"),
    "api-rating-flags": ("post", "L 400 400 400 400 400 400 400"),
    "api-rating-reply": ("post", "L 404 404 400 400 404 404 404"),
    "api-rating-moderation": ("get", "404 200 404 200 200 404 200 200"),
    "api-review-decision-appeal": ("post", "L 400 404 400 400 404 400 400"),
    "api-review-moderation-queue": ("get", "404 404 404 404 404 404 200 200"),
    "api-review-moderation-decide": ("post", "404 404 404 404 404 404 400 400"),
    "api-rating-moderation-decide": ("post", "404 404 404 404 404 404 400 400"),
    "api-review-appeal-decide": ("post", "404 404 404 404 404 404 400 400"),
    "api-feed": ("get", "404 200 200 200 200 200 200 200"),
    "api-trending": ("get", "200 200 200 200 200 200 200 200"),
    "api-tags-following-people": ("get", "L 200 200 200 200 200 200 200"),
    "api-sharing": ("get", "L 200 200 200 200 200 200 200"),
    "api-activity": ("get", "L 200 200 200 200 200 200 200"),
    "api-activity-withdraw": ("post", "L 405 405 405 405 405 405 405"),
    "api-follows": ("get", "L 200 200 200 200 200 200 200"),
    "api-unfollow-person": ("post", "L 405 405 405 405 405 405 405"),
    "api-unfollow-shop": ("post", "L 405 405 405 405 405 405 405"),
    "api-follower-remove": ("post", "L 405 405 405 405 405 405 405"),
    "api-person-followers": ("get", "200 200 200 200 200 200 200 200"),
    "api-person-following": ("get", "200 200 200 200 200 200 200 200"),
    "api-person-activity": ("get", "200 200 200 200 200 200 200 200"),
    "api-person-lists": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-followers": ("get", "200 200 200 200 200 200 200 200"),
    "api-favourite-lists": ("get", "L 200 200 200 200 200 200 200"),
    "api-favourite-list": ("get", "404 200 404 404 404 404 404 404"),
    "api-favourite-list-items": ("get", "404 200 404 404 404 404 404 404"),
    "api-favourites": ("post", "L 400 400 400 400 400 400 400"),
    "api-favourite": ("post", "L 405 405 405 405 405 405 405"),
    "api-recommendations": ("get", "400 400 400 400 400 400 400 400"),
    "api-wants": ("get", "L 200 200 200 200 200 200 200"),
    "api-want": ("get", "404 200 404 404 404 404 404 404"),
    "api-person-wants": ("get", "200 200 200 200 200 200 200 200"),
    "api-shop-demand": ("get", "404 404 404 200 200 404 404 404"),
    "api-schema": ("get", "200 200 200 200 200 200 200 200"),
    "api-docs": ("get", "200 200 200 200 200 200 200 200"),
}

# Patterns with no name: allauth's old addresses, which redirect to the new ones.
UNNAMED = {
    "accounts/social/login/cancelled/": ("get", "301 301 301 301 301 301 301 301"),
    "accounts/social/login/error/": ("get", "301 301 301 301 301 301 301 301"),
    "accounts/social/signup/": ("get", "301 301 301 301 301 301 301 301"),
    "accounts/social/connections/": ("get", "301 301 301 301 301 301 301 301"),
}

# Patterns with arguments the world cannot fill: a bad key is a bad key for everyone.
ODD_ARGUMENTS = {
    "account_confirm_email": {"key": "not-a-key"},
    "account_reset_password_from_key": {"uidb36": "1", "key": "not-a-key"},
    "openid_connect_login": {"provider_id": "no-such-provider"},
    "openid_connect_callback": {"provider_id": "no-such-provider"},
}
MATRIX.update(
    {
        "account_confirm_email": ("get", "200 200 200 200 200 200 200 200"),
        "account_reset_password_from_key": ("get", "200 200 200 200 200 200 200 200"),
        # Federated login: nobody gets past a provider that is not configured (the OAuth
        # providers are installed only when configured: tests/test_settings.py).
        "openid_connect_login": ("get", "404 404 404 404 404 404 404 404"),
        "openid_connect_callback": ("get", "404 404 404 404 404 404 404 404"),
    }
)

# The operator's admin: Django's own permission checks, per model. Checked below for the index
# and every registered model's list: staff only, and staff only with the model's permission.
ADMIN_PREFIX = "admin:"
# Served by the proxy in production; by Django only with DEBUG on (make run).
MEDIA_ROUTE = "^media/(?P<path>.*)$"


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if world.person(role) is not None:
            client.force_login(world.person(role))
        clients[role] = client
    return clients


def _send(client, method, path):
    with transaction.atomic():
        response = getattr(client, method)(path)
        transaction.set_rollback(True)
    return response


def _outcome_problem(response, expected: str, *, is_api: bool) -> str | None:
    status = response.status_code
    if expected == "L":
        if is_api:
            return None if status in {401, 403} else f"{status}, not refused as not signed in"
        location = response.headers.get("Location", "")
        return None if status == 302 and location.startswith("/accounts/login/") else f"{status} {location}"
    if expected == "S":
        return None if status in {200, 503} else str(status)
    return None if str(status) == expected else str(status)


def path_for(pattern, world) -> str:
    if pattern.name is None:
        return "/" + pattern.route
    kwargs = ODD_ARGUMENTS.get(pattern.key) or kwargs_for(pattern, world)
    return reverse(pattern.name, kwargs=kwargs)


def _matrix_problems(keys, world) -> list[str]:
    clients = _clients(world)
    patterns = {pattern.key: pattern for pattern in all_patterns()}
    rows = {**MATRIX, **UNNAMED}
    problems = []
    for key in keys:
        method, expected = rows[key]
        path = path_for(patterns[key], world)
        for role, outcome in zip(ROLES, expected.split(), strict=True):
            response = _send(clients[role], method, path)
            problem = _outcome_problem(response, outcome, is_api=path.startswith("/api/"))
            if problem:
                problems.append(f"{key} {method.upper()} {path} as {role}: expected {outcome}, got {problem}")
            if response.status_code < 500 and security_header_problems(response):
                problems.append(f"{key} as {role}: {security_header_problems(response)}")
    return problems


@pytest.fixture
def world(settings):
    # The error pages as in production (DEBUG off), not Django's technical ones.
    settings.DEBUG = False
    return build_world()


def test_every_url_pattern_is_in_the_table():
    known = set(MATRIX) | set(UNNAMED) | {MEDIA_ROUTE}
    missing = [
        pattern.key
        for pattern in all_patterns()
        if pattern.key not in known
        and not pattern.key.startswith(ADMIN_PREFIX)
        and not pattern.route.startswith("admin/")
    ]
    stale = sorted(set(MATRIX) - {pattern.key for pattern in all_patterns()})

    assert missing == [], "Say who may use these in tests/security/test_access_matrix.py: " + ", ".join(missing)
    assert stale == [], "These are in the access matrix but no longer URLs: " + ", ".join(stale)


def test_every_row_has_an_outcome_for_each_role():
    for key, (method, expected) in {**MATRIX, **UNNAMED}.items():
        assert method in {"get", "post", "put", "patch", "delete"}, key
        assert len(expected.split()) == len(ROLES), key


def test_pages_give_each_role_exactly_what_the_table_says(world):
    keys = [key for key in {**MATRIX, **UNNAMED} if not key.startswith("api-")]

    assert _matrix_problems(keys, world) == []


def test_the_api_gives_each_role_exactly_what_the_table_says(world):
    keys = [key for key in MATRIX if key.startswith("api-")]

    assert _matrix_problems(keys, world) == []


def test_the_admin_is_for_staff_and_each_model_for_staff_given_its_permission(world):
    clients = _clients(world)
    paths = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    # Operators moderate reviews and ratings from the admin too (reviews.admin).
    open_to_staff = {reverse("admin:index")} | {
        reverse(f"admin:reviews_{name}_changelist") for name in ("review", "sellerrating", "appeal")
    }
    problems = []
    for path in paths:
        for role in ROLES:
            response = _send(clients[role], "get", path)
            if role == "staff":
                expected = {200} if path in open_to_staff else {403}
                if response.status_code not in expected:
                    problems.append(f"{path} as staff without permissions: {response.status_code}")
            elif not (response.status_code == 302 and response.headers["Location"].startswith("/admin/login/")):
                problems.append(f"{path} as {role}: {response.status_code} {response.headers.get('Location')}")
    assert problems == []
