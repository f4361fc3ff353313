from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    # /.well-known/openid-configuration, /identity/o/authorize, ...
    path("", include("allauth.idp.urls")),
]
