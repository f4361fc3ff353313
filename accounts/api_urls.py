from django.urls import path

from .api import (
    AccessLogAPIView,
    AccountDeleteAPIView,
    ConsentsAPIView,
    DataImportAPIView,
    ExportDownloadAPIView,
    ExportsAPIView,
    MeAPIView,
    PersonAPIView,
    PrivacyAPIView,
)

urlpatterns = [
    path("me/", MeAPIView.as_view(), name="api-me"),
    path("people/<str:username>/", PersonAPIView.as_view(), name="api-person"),
    path("privacy/", PrivacyAPIView.as_view(), name="api-privacy"),
    path("privacy/consents/", ConsentsAPIView.as_view(), name="api-privacy-consents"),
    path("privacy/access-log/", AccessLogAPIView.as_view(), name="api-privacy-access-log"),
    path("privacy/exports/", ExportsAPIView.as_view(), name="api-privacy-exports"),
    path("privacy/exports/<int:pk>/download/", ExportDownloadAPIView.as_view(), name="api-privacy-export-download"),
    path("privacy/import/", DataImportAPIView.as_view(), name="api-privacy-import"),
    path("privacy/delete/", AccountDeleteAPIView.as_view(), name="api-privacy-delete"),
]
