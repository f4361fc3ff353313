from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("accounts/profile/", views.profile_edit, name="profile_edit"),
    path("people/<str:username>/", views.profile, name="profile"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/consents/", views.privacy_consents, name="privacy_consents"),
    path("privacy/exports/", views.export_request, name="export_request"),
    path("privacy/exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("privacy/import/", views.data_import, name="data_import"),
    path("privacy/delete/", views.account_delete, name="account_delete"),
    path("shops/<slug:slug>/earned-elsewhere/", views.earned_elsewhere, name="earned_elsewhere"),
]
