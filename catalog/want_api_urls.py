from django.urls import path

from . import want_api

urlpatterns = [
    path("wants/", want_api.WantListAPIView.as_view(), name="api-wants"),
    path("wants/<int:pk>/", want_api.WantAPIView.as_view(), name="api-want"),
    path("people/<str:username>/wants/", want_api.PersonWantsAPIView.as_view(), name="api-person-wants"),
    path("shops/<slug:slug>/demand/", want_api.ShopDemandAPIView.as_view(), name="api-shop-demand"),
]
