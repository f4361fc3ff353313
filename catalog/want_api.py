"""The want list API: my wants, a person's public wants, and a shop's demand. Thin: every rule
is in catalog.wantlists. Someone else's private want answers 404, as does a shop's demand to
anyone but its people."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import person_by_username
from marketplace.money import CURRENCY_CHOICES
from sellers.selectors import access_shop_for_edit

from . import wantlists
from .models import Want


class WantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    text = serializers.CharField(help_text="Words a matching listing has.")
    tags = serializers.SerializerMethodField()
    work = serializers.IntegerField(source="work_id", allow_null=True)
    work_title = serializers.CharField(source="work.title", allow_null=True, default=None)
    max_price = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    min_condition = serializers.CharField(source="min_condition.slug", allow_null=True, default=None)
    ships_to_me = serializers.BooleanField()
    visibility = serializers.ChoiceField(choices=Want.Visibility.choices)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def get_url(self, want) -> str:
        from django.urls import reverse

        return reverse("wants:detail", kwargs={"pk": want.pk})

    def get_tags(self, want) -> list[str]:
        return [tag.name for tag in want.tags.all()]


class WantInputSerializer(serializers.Serializer):
    # Only shapes here: the service says what is wrong with a value, and refuses it whole.
    text = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    tags = serializers.ListField(child=serializers.CharField(max_length=1000, allow_blank=True), required=False)
    work = serializers.IntegerField(required=False, allow_null=True)
    identifier = serializers.CharField(required=False, allow_blank=True, max_length=64)
    max_price = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=30)
    currency = serializers.ChoiceField(choices=[("", "none"), *CURRENCY_CHOICES], required=False, allow_blank=True)
    min_condition = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=30)
    ships_to_me = serializers.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=Want.Visibility.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class WantListAPIView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = WantSerializer
    filter_backends: list = []

    def get_queryset(self):
        return wantlists.wants_of(user=self.request.user)

    @extend_schema(tags=["wants"], summary="My wants")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["wants"],
        summary="Write a want",
        description="Words, tags and/or a work (by id, or an `identifier` of a work listed before) say what; "
        "`max_price` (with its `currency`), `min_condition` (a condition's slug) and `ships_to_me` narrow it. "
        "Each listing that comes on sale or drops its price to match tells me once (wantlist.matched).",
        request=WantInputSerializer,
        responses={201: WantSerializer},
    )
    def post(self, request):
        data = WantInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        want = wantlists.want_create(user=request.user, **data.validated_data)
        return Response(WantSerializer(wantlists.wants_queryset().get(pk=want.pk)).data, status=status.HTTP_201_CREATED)


class WantAPIView(APIView):
    permission_classes = [AllowAny]  # access_want answers 404 to whoever may not see it

    @extend_schema(tags=["wants"], summary="A want (mine, or a public one)", responses=WantSerializer)
    def get(self, request, pk: int):
        return Response(WantSerializer(wantlists.access_want(user=request.user, pk=pk)).data)

    @extend_schema(tags=["wants"], summary="Change my want", request=WantInputSerializer, responses=WantSerializer)
    def patch(self, request, pk: int):
        want = wantlists.access_own_want(user=request.user, pk=pk)
        data = WantInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        wantlists.want_update(want=want, user=request.user, **data.validated_data)
        return Response(WantSerializer(wantlists.access_want(user=request.user, pk=pk)).data)

    @extend_schema(tags=["wants"], summary="Delete my want", responses={204: None})
    def delete(self, request, pk: int):
        want = wantlists.access_own_want(user=request.user, pk=pk)
        wantlists.want_delete(want=want, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonWantsAPIView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = WantSerializer
    filter_backends: list = []

    def get_queryset(self):
        try:
            person = person_by_username(username=self.kwargs["username"][:150])
        except User.DoesNotExist as missing:
            raise Http404("No such person.") from missing
        return wantlists.public_wants_of(person=person)

    @extend_schema(tags=["wants"], summary="A person's public wants")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WantedWorkSerializer(serializers.Serializer):
    work = serializers.IntegerField(source="work_id")
    title = serializers.CharField()
    creator = serializers.CharField()
    url = serializers.CharField()
    people = serializers.IntegerField(help_text="How many people want it.")
    listed_here = serializers.IntegerField(help_text="The shop's copies of it on sale.")


class WantedTagSerializer(serializers.Serializer):
    name = serializers.CharField()
    people = serializers.IntegerField()


class DemandSerializer(serializers.Serializer):
    works = WantedWorkSerializer(many=True)
    tags = WantedTagSerializer(many=True)
    in_categories = serializers.BooleanField(help_text="Counted in the shop's categories (else everywhere).")


class ShopDemandAPIView(APIView):
    permission_classes = [AllowAny]  # access_shop_for_edit answers 404 to everyone but the shop's people

    @extend_schema(
        tags=["wants"],
        summary="What people want that my shop could list",
        description="The most wanted works and tags in the shop's categories, as counts of people (never who).",
        responses=DemandSerializer,
    )
    def get(self, request, slug: str):
        shop = access_shop_for_edit(user=request.user, slug=slug)
        return Response(DemandSerializer(wantlists.shop_demand(shop=shop)).data)
