from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("accounts/profile/", views.profile_edit, name="profile_edit"),
    path("accounts/tokens/", views.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
    path("people/<str:username>/", views.profile, name="profile"),
]
