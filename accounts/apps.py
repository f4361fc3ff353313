from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import remember_sign_in

        user_logged_in.connect(remember_sign_in, dispatch_uid="accounts.remember_sign_in")
