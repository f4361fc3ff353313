from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .kinds import KINDS, EmailMode
from .models import Notification
from .selectors import notifications_for, preferences_for, unread_count


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, read_only=True)
    kind = serializers.ChoiceField(choices=sorted(KINDS), read_only=True)
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "actor", "created_at", "read_at", "is_read"]
        read_only_fields = fields


class NotificationCursor(CursorPagination):
    ordering = ("-created_at", "-pk")
    page_size = 30


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(KINDS))
    label = serializers.CharField(read_only=True)
    in_app = serializers.BooleanField(required=False)
    email = serializers.ChoiceField(choices=EmailMode.CHOICES, required=False)


UnreadCountSerializer = inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
ChangedSerializer = inline_serializer("MarkedRead", {"changed": serializers.IntegerField()})


class NotificationListAPIView(ListAPIView):
    """The signed-in person's notifications, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer
    pagination_class = NotificationCursor

    @extend_schema(
        tags=["notifications"],
        parameters=[OpenApiParameter("unread", bool, description="Only the unread ones.")],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no signed-in person
            return Notification.objects.none()
        unread_only = self.request.query_params.get("unread") in {"1", "true", "yes"}
        return notifications_for(user=self.request.user, unread_only=unread_only)


class UnreadCountAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["notifications"], summary="How many notifications are unread", responses=UnreadCountSerializer)
    def get(self, request):
        return Response({"unread": unread_count(user=request.user)})


class MarkReadAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["notifications"], summary="Mark one notification read", request=None, responses=NotificationSerializer
    )
    def post(self, request, pk: int):
        try:
            notification = services.mark_read(user=request.user, notification_id=pk)
        except Notification.DoesNotExist:
            raise NotFound("No such notification.") from None
        return Response(NotificationSerializer(notification).data)


class MarkAllReadAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["notifications"], summary="Mark every notification read", request=None, responses=ChangedSerializer
    )
    def post(self, request):
        return Response({"changed": services.mark_all_read(user=request.user)})


class PreferencesAPIView(APIView):
    """Which channels each kind of notification reaches the signed-in person by."""

    permission_classes = [IsAuthenticated]

    def _current(self, user):
        return [vars(choice) for choice in preferences_for(user=user).values()]

    @extend_schema(tags=["notifications"], responses=PreferenceSerializer(many=True))
    def get(self, request):
        return Response(PreferenceSerializer(self._current(request.user), many=True).data)

    @extend_schema(
        tags=["notifications"],
        summary="Change some kinds' channels",
        description="Send only the kinds to change; the others keep their settings.",
        request=PreferenceSerializer(many=True),
        responses=PreferenceSerializer(many=True),
    )
    def patch(self, request):
        incoming = PreferenceSerializer(data=request.data, many=True)
        incoming.is_valid(raise_exception=True)
        choices = {item["kind"]: {k: v for k, v in item.items() if k != "kind"} for item in incoming.validated_data}
        try:
            services.preferences_update(user=request.user, choices=choices)
        except ValidationError as error:
            raise APIValidationError(error.message_dict) from None
        return Response(PreferenceSerializer(self._current(request.user), many=True).data, status=status.HTTP_200_OK)
