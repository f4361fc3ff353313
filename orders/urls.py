from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/<int:pk>/", views.confirmation, name="confirmation"),
    path("orders/", views.order_list, name="list"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
    path("orders/payments/<slug:provider>/webhook/", views.payment_webhook, name="payment_webhook"),
    path("accounts/addresses/", views.address_book, name="addresses"),
    path("accounts/addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("accounts/addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
    path("accounts/addresses/<int:pk>/default/", views.address_default, name="address_default"),
    path("shops/<slug:slug>/dashboard/orders/", views.shop_orders, name="shop_orders"),
    path("shops/<slug:slug>/dashboard/orders/<int:pk>/", views.shop_order, name="shop_order"),
    path("shops/<slug:slug>/dashboard/orders/<int:pk>/packing-slip/", views.packing_slip, name="packing_slip"),
    path("shops/<slug:slug>/dashboard/order-terms/", views.shop_terms, name="shop_terms"),
    path("shops/<slug:slug>/dashboard/statements/", views.statements, name="statements"),
    path("shops/<slug:slug>/dashboard/statements/<str:month>/", views.statement, name="statement"),
    path("shops/<slug:slug>/dashboard/statements/<str:month>/csv/", views.statement_csv, name="statement_csv"),
    # Offers
    path("listings/<int:pk>/offer/", views.offer_make, name="offer_make"),
    path("offers/", views.offer_list, name="offers"),
    path("offers/<str:token>/", views.offer_detail, name="offer"),
    path(
        "shops/<slug:slug>/dashboard/listings/<int:pk>/private-offer/",
        views.private_offer_make,
        name="private_offer_make",
    ),
    path("shops/<slug:slug>/dashboard/offers/", views.shop_offers, name="shop_offers"),
    path("shops/<slug:slug>/dashboard/offers/<int:pk>/", views.shop_offer, name="shop_offer"),
    path("shops/<slug:slug>/dashboard/order-terms/offers/", views.shop_offer_terms, name="shop_offer_terms"),
    # Thank-you notes
    path("orders/<int:pk>/thank-you-note/", views.buyer_note, name="buyer_note"),
    path("shops/<slug:slug>/dashboard/orders/<int:pk>/thank-you-note/", views.shop_note, name="shop_note"),
    # Problem cases
    path("orders/<int:pk>/problem/", views.case_open, name="case_open"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("moderation/cases/", views.moderation_cases, name="moderation_cases"),
]
