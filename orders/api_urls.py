from django.urls import path

from . import api

urlpatterns = [
    path("cart/", api.CartAPIView.as_view(), name="api-cart"),
    path("cart/items/", api.CartItemsAPIView.as_view(), name="api-cart-items"),
    path("cart/items/<int:listing_id>/", api.CartItemAPIView.as_view(), name="api-cart-item"),
    path("checkout/", api.CheckoutAPIView.as_view(), name="api-checkout"),
    path("addresses/", api.AddressListAPIView.as_view(), name="api-addresses"),
    path("addresses/<int:pk>/", api.AddressAPIView.as_view(), name="api-address"),
    path("orders/", api.OrderListAPIView.as_view(), name="api-orders"),
    path("orders/<int:pk>/", api.OrderAPIView.as_view(), name="api-order"),
    path("orders/<int:pk>/transitions/", api.OrderTransitionAPIView.as_view(), name="api-order-transitions"),
    path("shops/<slug:slug>/orders/", api.ShopOrderListAPIView.as_view(), name="api-shop-orders"),
    path("shops/<slug:slug>/orders/<int:pk>/", api.ShopOrderAPIView.as_view(), name="api-shop-order"),
    path(
        "shops/<slug:slug>/orders/<int:pk>/transitions/",
        api.ShopOrderTransitionAPIView.as_view(),
        name="api-shop-order-transitions",
    ),
    path("shops/<slug:slug>/order-terms/", api.ShopTermsAPIView.as_view(), name="api-shop-order-terms"),
    path("shops/<slug:slug>/statements/", api.StatementListAPIView.as_view(), name="api-shop-statements"),
    path("shops/<slug:slug>/statements/<str:month>/", api.StatementAPIView.as_view(), name="api-shop-statement"),
    path("shops/<slug:slug>/completion-rate/", api.CompletionRateAPIView.as_view(), name="api-shop-completion-rate"),
    # Offers
    path("shops/<slug:slug>/offer-terms/", api.OfferTermsAPIView.as_view(), name="api-shop-offer-terms"),
    path("shops/<slug:slug>/private-offers/", api.PrivateOfferCreateAPIView.as_view(), name="api-shop-private-offers"),
    path("shops/<slug:slug>/offers/", api.ShopOfferListAPIView.as_view(), name="api-shop-offers"),
    path("shops/<slug:slug>/offers/<int:pk>/", api.ShopOfferAPIView.as_view(), name="api-shop-offer"),
    path(
        "shops/<slug:slug>/offers/<int:pk>/actions/",
        api.ShopOfferActionAPIView.as_view(),
        name="api-shop-offer-actions",
    ),
    path("offers/", api.OfferListAPIView.as_view(), name="api-offers"),
    path("offers/<str:token>/", api.OfferAPIView.as_view(), name="api-offer"),
    path("offers/<str:token>/actions/", api.OfferActionAPIView.as_view(), name="api-offer-actions"),
    path("offers/<str:token>/order/", api.OfferOrderAPIView.as_view(), name="api-offer-order"),
    # Thank-you notes
    path("orders/<int:pk>/thank-you-notes/", api.OrderNotesAPIView.as_view(), name="api-order-notes"),
    path(
        "shops/<slug:slug>/orders/<int:pk>/thank-you-notes/",
        api.ShopOrderNotesAPIView.as_view(),
        name="api-shop-order-notes",
    ),
    path("shops/<slug:slug>/kind-words/", api.KindWordsAPIView.as_view(), name="api-shop-kind-words"),
    # Problem cases
    path("orders/<int:pk>/cases/", api.CaseOpenAPIView.as_view(), name="api-order-cases"),
    path("cases/", api.CaseListAPIView.as_view(), name="api-cases"),
    path("cases/<int:pk>/", api.CaseAPIView.as_view(), name="api-case"),
    path("cases/<int:pk>/steps/", api.CaseStepAPIView.as_view(), name="api-case-steps"),
    path("moderation/cases/", api.ModerationCaseListAPIView.as_view(), name="api-moderation-cases"),
]
