from django.contrib.auth import logout
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers
from rest_framework.generics import RetrieveAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import imports, selectors, services
from .forms import recently_signed_in
from .models import ConsentPurpose, ConsentRecord, DataExport, User
from .selectors import active_people
from .services import PROFILE_FIELDS, profile_update


class PublicProfileSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="public_name", read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)
    avatar_small = serializers.ImageField(read_only=True)
    avatar_large = serializers.ImageField(read_only=True)

    class Meta:
        model = User
        fields = [
            "username",
            "name",
            "display_name",
            "bio",
            "country",
            "city",
            "avatar_small",
            "avatar_large",
            "date_joined",
        ]
        read_only_fields = fields


class OwnProfileSerializer(PublicProfileSerializer):
    class Meta(PublicProfileSerializer.Meta):
        fields = [*PublicProfileSerializer.Meta.fields, "email"]
        read_only_fields = fields


class ProfileUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    bio = serializers.CharField(max_length=500, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2 code")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    avatar = serializers.FileField(required=False, help_text="JPEG, PNG, WebP or GIF up to 5 MB")
    remove_avatar = serializers.BooleanField(required=False, default=False)


class MeAPIView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        summary="My profile",
        description="The signed-in person's own profile, with e-mail.",
        responses=OwnProfileSerializer,
    )
    def get(self, request):
        return Response(OwnProfileSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        summary="Edit my profile",
        description="Change display name, bio, country, city or avatar. A refused avatar changes nothing.",
        request=ProfileUpdateSerializer,
        responses=OwnProfileSerializer,
    )
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = profile_update(
            user=User.objects.get(pk=request.user.pk),
            avatar=data.get("avatar"),
            remove_avatar=data.get("remove_avatar", False),
            **{name: data[name] for name in PROFILE_FIELDS if name in data},
        )
        return Response(OwnProfileSerializer(user, context={"request": request}).data)


class PersonAPIView(RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = PublicProfileSerializer
    lookup_field = "username"

    @extend_schema(summary="A person's public profile")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return get_object_or_404(active_people(), username=self.kwargs["username"])


# --- Privacy -----------------------------------------------------------------------------------


class HeldKindSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)
    retention = serializers.CharField()
    url = serializers.CharField()


class ConsentStateSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    label = serializers.CharField()
    explanation = serializers.CharField()
    is_given = serializers.BooleanField()
    decided_at = serializers.DateTimeField(allow_null=True)
    can_give_here = serializers.BooleanField()
    give_url = serializers.CharField()


class ConsentChangeSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    is_given = serializers.BooleanField()


class ConsentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentRecord
        fields = ["purpose", "is_given", "wording_version", "decided_at"]
        read_only_fields = fields


class AccessEntrySerializer(serializers.Serializer):
    accessed_at = serializers.DateTimeField()
    by = serializers.CharField()
    what = serializers.CharField()
    reason = serializers.CharField()


class DataExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "format_version",
            "size_bytes",
            "requested_at",
            "ready_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        return reverse("api-privacy-export-download", kwargs={"pk": export.pk}) if export.is_downloadable else None


class PrivacyOverviewSerializer(serializers.Serializer):
    held = HeldKindSerializer(many=True)
    retention = serializers.DictField(child=serializers.CharField())
    exports = DataExportSerializer(many=True)


class PrivacyAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="What Plural holds about me",
        description="Every kind of personal data held, with counts, how long each is kept and where to see it.",
        responses=PrivacyOverviewSerializer,
    )
    def get(self, request):
        data = {
            "held": selectors.privacy_overview(user=request.user),
            "retention": selectors.retention_words(),
            "exports": selectors.exports_of(user=request.user),
        }
        return Response(PrivacyOverviewSerializer(data).data)


class ConsentsAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="My consents", responses=ConsentStateSerializer(many=True))
    def get(self, request):
        return Response(ConsentStateSerializer(selectors.consent_states(user=request.user), many=True).data)

    @extend_schema(
        summary="Give or withdraw a consent",
        description="Withdrawing applies at once. Activity sharing is given on the sharing settings; "
        "storefront thank-you notes are agreed per note.",
        request=ConsentChangeSerializer,
        responses={201: ConsentRecordSerializer},
    )
    def post(self, request):
        serializer = ConsentChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.consent_set(user=request.user, **serializer.validated_data)
        return Response(ConsentRecordSerializer(record).data, status=201)


class AccessLogAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Who opened my private data", responses=AccessEntrySerializer(many=True))
    def get(self, request):
        return Response(AccessEntrySerializer(selectors.access_log(user=request.user), many=True).data)


class ExportsAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="My data exports", responses=DataExportSerializer(many=True))
    def get(self, request):
        return Response(DataExportSerializer(selectors.exports_of(user=request.user), many=True).data)

    @extend_schema(
        summary="Export my data",
        description="Starts building a zip of everything held about me; a notification says when it is ready.",
        request=None,
        responses={202: DataExportSerializer},
    )
    def post(self, request):
        export = services.export_request(user=request.user)
        return Response(DataExportSerializer(export).data, status=202)


class ExportDownloadAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Download my data export",
        description="Only its owner, only until it expires; anyone else gets 404.",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int):
        try:
            export = selectors.access_export(user=request.user, export_id=pk)
        except DataExport.DoesNotExist as missing:
            raise Http404 from missing
        services.export_downloaded(export=export)
        response = FileResponse(
            export.file.open("rb"), as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1]
        )
        response["Cache-Control"] = "private, no-store"
        return response


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(required=False, allow_blank=True, write_only=True)
    delete_reviews = serializers.BooleanField(default=False)


class AccountDeleteAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Delete my account",
        description="Needs the password (or, for accounts without one, a sign-in within 15 minutes). "
        "Refused with 400 while orders are open.",
        request=AccountDeleteSerializer,
        responses={204: None},
    )
    def post(self, request):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = User.objects.get(pk=request.user.pk)
        password = serializer.validated_data.get("password", "")
        if user.has_usable_password() and not user.check_password(password):
            raise serializers.ValidationError({"password": ["That is not your password."]})
        if not user.has_usable_password() and not recently_signed_in(user):
            raise serializers.ValidationError({"password": ["Sign in again, then delete within 15 minutes."]})
        services.account_delete(user=user, delete_reviews=serializer.validated_data["delete_reviews"])
        logout(request)
        return Response(status=204)


class DataImportSerializer(serializers.Serializer):
    archive = serializers.FileField(help_text="A Plural export (.zip)")
    include_shop = serializers.BooleanField(default=True)


class DataImportResultSerializer(serializers.Serializer):
    counts = serializers.DictField(child=serializers.IntegerField())
    shop_slug = serializers.CharField()
    skipped = serializers.ListField(child=serializers.CharField(allow_null=True))


class DataImportAPIView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        summary="Import a Plural export",
        description="Profile, addresses, want lists, follows and favourites of shops that exist here, and a shop "
        "with its listings, images and the reviews it earned elsewhere (shown as history, never counted).",
        request=DataImportSerializer,
        responses={201: DataImportResultSerializer},
    )
    def post(self, request):
        serializer = DataImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = imports.import_archive(user=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"archive": error.messages}) from error
        return Response(DataImportResultSerializer(result).data, status=201)
