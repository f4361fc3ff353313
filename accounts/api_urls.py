from django.urls import path

from .api import MeAPIView, PersonAPIView

urlpatterns = [
    path("me/", MeAPIView.as_view(), name="api-me"),
    path("people/<str:username>/", PersonAPIView.as_view(), name="api-person"),
]
