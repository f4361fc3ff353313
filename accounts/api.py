from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import ApiToken, User
from .selectors import active_people, api_tokens_of, people_search
from .services import PROFILE_FIELDS, api_token_create, api_token_revoke, profile_update


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


class ApiTokenSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True, help_text="False once revoked.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices, default=ApiToken.Scope.READ)


class NewApiTokenSerializer(ApiTokenSerializer):
    secret = serializers.CharField(read_only=True, help_text="The token itself: shown in this answer only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "secret"]
        read_only_fields = fields


def _refuse_token_management_by_token(request) -> None:
    # A leaked token must not be able to mint tokens that outlive its own revocation.
    if isinstance(request.auth, ApiToken):
        raise exceptions.PermissionDenied("Tokens are made and revoked from a signed-in session, not with a token.")


class ApiTokenListAPIView(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ApiTokenSerializer

    queryset = ApiToken.objects.none()  # for the schema; get_queryset narrows to the caller's own

    def get_queryset(self):
        return api_tokens_of(user=self.request.user)

    @extend_schema(
        summary="My API tokens",
        description="The signed-in person's personal API tokens, newest first, revoked ones included. "
        "The secrets themselves are never shown again after a token was made.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Make an API token",
        description="Make a personal token with a name and a scope (read or write). The answer carries the "
        "secret, once: only its hash is kept. Refused when authenticated with a token.",
        request=ApiTokenCreateSerializer,
        responses={201: NewApiTokenSerializer},
    )
    def post(self, request):
        _refuse_token_management_by_token(request)
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = api_token_create(user=request.user, **serializer.validated_data)
        created.token.secret = created.secret
        return Response(NewApiTokenSerializer(created.token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Revoke an API token",
        description="Revoke one of the signed-in person's tokens: it stops working at once. Revoking a revoked "
        "token changes nothing; another person's token is not found. Refused when authenticated with a token.",
        request=None,
        responses={200: ApiTokenSerializer},
    )
    def delete(self, request, token_id: int):
        _refuse_token_management_by_token(request)
        try:
            token = api_token_revoke(user=request.user, token_id=token_id)
        except ApiToken.DoesNotExist as missing:
            raise Http404 from missing
        return Response(ApiTokenSerializer(token).data)


class PeopleSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="Part of a name, username or city.")


class PeopleSearchAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["search"],
        summary="Find people",
        description="Active people whose display name, username or city contains `q`, by username; at most 20, "
        "as the search page shows them.",
        parameters=[PeopleSearchQuerySerializer],
        responses=PublicProfileSerializer(many=True),
    )
    def get(self, request):
        query = PeopleSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        people = people_search(query=query.validated_data["q"].strip())
        return Response(PublicProfileSerializer(people, many=True, context={"request": request}).data)
