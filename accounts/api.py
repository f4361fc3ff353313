from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers
from rest_framework.generics import RetrieveAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import User
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
