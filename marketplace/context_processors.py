from django.conf import settings


def site(request):
    return {"SITE_NAME": settings.SITE_NAME, "social_login_enabled": bool(settings.SOCIALACCOUNT_PROVIDERS)}
