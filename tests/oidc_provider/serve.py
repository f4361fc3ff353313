"""Start the test OpenID Connect provider as its own process.

    python -m tests.oidc_provider.serve --port-file PATH --client-id ID \
        --client-secret SECRET --redirect-uri URI --username NAME \
        --email ADDRESS --password PASSWORD

Migrates the provider's own database, creates one person (with a verified
e-mail address, so the ``email`` claim is released) and one confidential
client allowed to redirect to the given URIs, then serves on a free port of
127.0.0.1. The port is written to ``--port-file`` once the socket listens.
The settings come from the environment: see ``settings.py``.
"""

import argparse
import os
from pathlib import Path


def _seed(args: argparse.Namespace) -> None:
    from allauth.account.models import EmailAddress
    from allauth.idp.oidc.models import Client
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=args.username, email=args.email, password=args.password, first_name="Ada", last_name="Lovelace"
    )
    EmailAddress.objects.create(user=user, email=args.email, verified=True, primary=True)
    client = Client(id=args.client_id, name="Plural", type=Client.Type.CONFIDENTIAL)
    client.set_secret(args.client_secret)
    client.set_redirect_uris(args.redirect_uri)
    client.set_scopes(["openid", "profile", "email"])
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
    client.set_response_types([Client.ResponseType.CODE])
    client.full_clean()
    client.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True, type=Path)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--redirect-uri", required=True, action="append")
    parser.add_argument("--username", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    # Never inherit the parent's DJANGO_SETTINGS_MODULE (pytest-django sets Plural's).
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django

    django.setup()

    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", interactive=False, verbosity=0)
    _seed(args)

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    # Written atomically: the parent polls for the file.
    partial = args.port_file.with_suffix(".partial")
    partial.write_text(str(server.server_port))
    partial.rename(args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
