"""A second, self-contained Django project: an OpenID Connect provider built on
allauth's own identity provider (``allauth.idp.oidc``).

The OIDC login tests start it as a separate process (see ``serve.py``) so that
Plural logs people in against a real provider over real HTTP. It shares no
database, secret, key or cookie name with Plural.
"""
