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
]
