from django.apps import AppConfig


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in

        from .receivers import merge_guest_cart_on_login

        # Only logins of Plural's own users, whatever the login path (password, social, allauth).
        user_logged_in.connect(merge_guest_cart_on_login, sender=get_user_model(), dispatch_uid="orders.merge_cart")
