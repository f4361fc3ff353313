"""The OpenAPI schema's shared parts: the error answers every operation may give."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every API error except a 400 with field errors."""

    detail = serializers.CharField(help_text="What went wrong, in words for a person.")
    code = serializers.CharField(
        help_text="Stable machine-readable reason, e.g. not_found, not_authenticated, permission_denied, "
        "method_not_allowed, throttled, token_read_only."
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="On 429 only: seconds to wait before trying again (also the Retry-After header)."
    )


ERROR_RESPONSES = {
    "400": "The request is not valid: nothing was changed.",
    "401": "Not authenticated, or the token is not valid or was revoked.",
    "403": "Authenticated, but not allowed to do this (or a read token tried to write, or CSRF failed).",
    "404": "No such thing, or not one the caller may see.",
    "429": "Too many requests: wait `retry_after` seconds (the Retry-After header says the same).",
}


class PluralAutoSchema(AutoSchema):
    """Adds the shared error answers, in the `Error` / `ValidationError` shapes, to every operation."""

    def _is_conditional_read(self) -> bool:
        return self.method == "GET" and getattr(self.view, "conditional_get", False)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._is_conditional_read():
            parameters = [
                *parameters,
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag of a copy you hold: the answer is 304 with no body while it is current.",
                ),
            ]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        declared = self.get_response_serializers()
        if (
            self.method == "DELETE"
            and list(responses) == ["204"]
            and declared is not None
            and not isinstance(declared, dict)
        ):
            # drf-spectacular assumes a DELETE answers 204 whatever it was given; ours that name a
            # serializer answer 200 with it (what is left: the cart, the review, the read state).
            responses = {
                "200": self._get_response_for_code(self.get_response_serializers(), "200", direction=direction)
            }
        if self._is_conditional_read():
            responses["304"] = {"description": "Not modified: the copy with the ETag sent in If-None-Match is current."}
        for code, description in ERROR_RESPONSES.items():
            if code == "401" and not self.view.get_authenticators():
                continue
            if code in responses:
                if "content" in responses[code]:
                    continue
                # Documented by the view without a body: keep its words, give it the shared shape.
                description = responses[code]["description"]
            body = {"$ref": "#/components/schemas/ValidationError"} if code == "400" else ErrorSerializer
            responses[code] = self._get_response_for_code(OpenApiResponse(body, description=description), code)
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code in ("200", "304") and self._is_conditional_read():
            headers["ETag"] = {
                "schema": {"type": "string"},
                "description": "Changes whenever the representation does; send it back in If-None-Match.",
            }
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before trying again.",
            }
        return headers
