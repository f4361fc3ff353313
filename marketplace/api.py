import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from sellers.selectors import ShopRequiresMFA

from .selectors import site_status


def paginated_response(request, view, queryset, serializer_class) -> Response:
    """One page of `queryset` in `view`'s pagination, serialized, with the page's links."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def exception_handler(exc, context):
    """Every API error in one of two shapes (components `Error` and `ValidationError`).

    - 400, always with field errors: `{"field": ["message", ...], "non_field_errors": [...]}`
      (a body that does not parse too);
    - any other status: `{"detail": "message", "code": "machine_readable_code"}`, plus
      `retry_after` (seconds, also in the Retry-After header) on 429.

    The services' Django ValidationError and PermissionDenied become 400 and 403.
    """
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            exc = exceptions.ValidationError(detail=exc.message_dict)
        else:
            exc = exceptions.ValidationError(detail={"non_field_errors": exc.messages})
    elif isinstance(exc, ShopRequiresMFA):
        # The person can do something about this one: say what.
        exc = exceptions.PermissionDenied(detail=str(exc), code="mfa_required")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or isinstance(exc, exceptions.ValidationError):
        if response is not None and not isinstance(response.data, dict):
            response.data = {"non_field_errors": response.data}
        return response
    if response.status_code == status.HTTP_400_BAD_REQUEST:
        # A body that does not parse is refused like any other bad input: a 400 is always field errors.
        response.data = {"non_field_errors": [str(response.data.get("detail", ""))]}
        return response
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "not_found"
    response.data = {"detail": str(response.data.get("detail", "")), "code": code if isinstance(code, str) else "error"}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data["retry_after"] = math.ceil(exc.wait)
    return response


def error_body(*, detail: str, code: str) -> dict:
    """The `Error` shape, for error answers made outside DRF's views (unknown address, crash)."""
    return {"detail": detail, "code": code}


class ServiceCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=["ok", "degraded", "down"])
    detail = serializers.CharField()
    checked_at = serializers.DateTimeField()
    latency_ms = serializers.FloatField(allow_null=True)


class SiteStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["ok", "degraded", "down"])
    checked_at = serializers.DateTimeField()
    checks = ServiceCheckSerializer(many=True)


class StatusAPIView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        summary="Service status",
        description=(
            "Whether Plural and the services it depends on are up: database, cache, "
            "task broker, queue depth and the last worker heartbeat, each ok, degraded "
            "or down with the time it was checked. Answers 503 when something is down."
        ),
        responses={200: SiteStatusSerializer, 503: SiteStatusSerializer},
    )
    def get(self, request):
        current = site_status()
        code = status.HTTP_503_SERVICE_UNAVAILABLE if current.state == "down" else status.HTTP_200_OK
        return Response(SiteStatusSerializer(current).data, status=code)
