"""Personal API tokens in DRF: `Authorization: Bearer <secret>` (or `Token <secret>`)."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from .selectors import api_token_by_secret
from .services import API_TOKEN_PREFIX, api_token_mark_used

KEYWORDS = (b"bearer", b"token")
# An OpenID Connect access token may change things only when the person granted this scope.
OIDC_WRITE_SCOPE = "plural:write"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a request carrying one of Plural's personal tokens.

    A bearer credential that is not a Plural token (no `plural_` prefix) is left to the
    next authentication class, so that OpenID Connect access tokens can follow. A read
    token is refused on any write, whatever the endpoint's own permissions say: the
    scope is checked here, where every request with a token passes.
    """

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("The token is not valid.") from error
        if not secret.startswith(API_TOKEN_PREFIX):
            return None
        token = api_token_by_secret(secret=secret)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, or was revoked.")
        if not token.can_write and request.method not in SAFE_METHODS:
            raise ReadOnlyToken()
        api_token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request):
        # Only a request that tried a token is challenged (401); one with no credentials at
        # all keeps the site's answer for an anonymous visitor, 403.
        if authentication.get_authorization_header(request):
            return 'Bearer realm="api"'
        return None


class ReadOnlyToken(exceptions.PermissionDenied):
    default_detail = "This token may only read: make a token with the write scope to change anything."
    default_code = "token_read_only"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A personal API token, made under Your account → API tokens. Read tokens may only "
                "use GET, HEAD and OPTIONS; write tokens may do whatever the person may do. "
                "`Authorization: Token <token>` is accepted too."
            ),
        }


class OidcAccessTokenAuthentication(authentication.BaseAuthentication):
    """Access tokens issued by Plural's own OpenID Connect provider, when it is enabled.

    Comes after the personal tokens, so a bearer credential reaching it is not one of those.
    Like a read token, an access token only reads unless the `plural:write` scope was granted.
    """

    def authenticate(self, request):
        if not settings.PLURAL_OIDC_IDP_ENABLED:
            return None
        parts = authentication.get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        from allauth.idp.oidc.contrib.rest_framework.authentication import TokenAuthentication

        found = TokenAuthentication().authenticate(request)
        if found is None:
            raise exceptions.AuthenticationFailed("The access token is not valid, or has expired.")
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The access token is not valid, or has expired.")
        if request.method not in SAFE_METHODS and OIDC_WRITE_SCOPE not in token.get_scopes():
            raise ReadOnlyToken("This access token may only read: the plural:write scope was not granted.")
        return user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"' if authentication.get_authorization_header(request) else None


class OidcAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.OidcAccessTokenAuthentication"
    # A list of names, so that the scheme can be left out of the schema while the identity
    # provider is off: the docs page would otherwise try to discover a provider that is not there.
    name = ["openIdConnect"]

    def get_security_requirement(self, auto_schema):
        return super().get_security_requirement(auto_schema) if settings.PLURAL_OIDC_IDP_ENABLED else None

    def get_security_definition(self, auto_schema):
        if not settings.PLURAL_OIDC_IDP_ENABLED:
            return []
        return [
            {
                "type": "openIdConnect",
                "openIdConnectUrl": f"{settings.PLURAL_BASE_URL}/.well-known/openid-configuration",
                "description": (
                    "An access token from Plural's OpenID Connect provider, where the operator enabled it. "
                    "It only reads unless the plural:write scope was granted."
                ),
            }
        ]
