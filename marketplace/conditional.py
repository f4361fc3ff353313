"""Conditional GET for the API's public reads: an ETag on every 200, 304 when it matches.

The ETag is a hash of the representation itself, so it changes with anything shown (a
price, a shop going on vacation, a new tag) without each model having to bump a timestamp;
what a 304 saves is the transfer and the client's work, not our queries.
"""

import hashlib

from django.utils.cache import get_conditional_response, patch_vary_headers, quote_etag


class ConditionalGetMixin:
    """For DRF views: ETag on GET/HEAD 200 answers, 304 Not Modified on a matching If-None-Match."""

    conditional_get = True  # marketplace.schema documents the ETag, If-None-Match and 304

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
        response["ETag"] = etag
        # Shipping and "mine" fields differ between callers: a shared cache must tell them apart.
        patch_vary_headers(response, ("Cookie", "Authorization"))
        return get_conditional_response(request, etag=etag, response=response)
