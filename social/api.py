"""The social API: what I share, my activity, the feed, follows, favourites, recommendations
and trending. Thin: rules live in social.services, reads in social.selectors. Whatever the
caller may not see answers 404 (a private list, another person's activity), never 403.

Feeds and activity page with a cursor (`cursor`, answered as `next_cursor` and `next`):
newest first, stable while new activity arrives."""

import re

from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_tags
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import person_by_username
from catalog.models import Listing, Work
from catalog.selectors import access_listing_for_view

from . import recommendations, selectors, services
from .models import Activity, ActivityKind, Audience, ListVisibility, SharingSubject
from .recommendations import Scope

# --- References ------------------------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(source="public_name")
    url = serializers.CharField(source="get_absolute_url", help_text="The profile page.")


class ShopRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url", help_text="The storefront.")


class ListingRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    price = serializers.DecimalField(max_digits=8, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Listing.Status.choices)


class WorkRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    creator = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url", help_text="The price comparator.")


class TagRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class ListRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class WantRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, want) -> str:
        return reverse("wants:detail", kwargs={"pk": want.pk})


# --- Activity ------------------------------------------------------------------------------------------

_SUMMARIES = {
    ActivityKind.FAVOURITED: "{actor} saved {thing}",
    ActivityKind.TAGGED: "{actor} tagged {thing}",
    ActivityKind.REVIEWED: "{actor} reviewed {thing}",
    ActivityKind.BOUGHT: "{actor} bought {thing}",
    ActivityKind.OPENED_SHOP: "{actor} opened a shop: {thing}",
    ActivityKind.LISTED: "New at {shop}: {thing}",
    ActivityKind.WANTED: "{actor} is looking for {thing}",
}


def activity_summary(activity: Activity) -> str:
    if activity.want_id:
        thing = " ".join(
            part for part in (activity.want.work.title if activity.want.work else "", activity.want.text) if part
        )
    elif activity.listing_id:
        thing = activity.listing.title
    elif activity.shop_id:
        thing = activity.shop.name
    else:
        thing = "something"
    if activity.tag_application_id:
        thing += f" “{activity.tag_application.tag.name}”"
    return _SUMMARIES[activity.kind].format(
        actor=activity.actor.public_name, thing=thing, shop=activity.shop.name if activity.shop_id else ""
    )


class ActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    created_at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField(help_text="Who did it; null for a shop's new listing.")
    summary = serializers.SerializerMethodField()
    listing = ListingRefSerializer(allow_null=True)
    shop = ShopRefSerializer(allow_null=True)
    work = WorkRefSerializer(allow_null=True)
    tag = serializers.SerializerMethodField()
    favourite_list = serializers.SerializerMethodField()
    want = WantRefSerializer(allow_null=True)

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_actor(self, activity):
        # A shop's new listing is the shop's news: the person who listed it is not named.
        return None if activity.kind == ActivityKind.LISTED else PersonRefSerializer(activity.actor).data

    def get_summary(self, activity) -> str:
        return activity_summary(activity)

    @extend_schema_field(TagRefSerializer(allow_null=True))
    def get_tag(self, activity):
        return TagRefSerializer(activity.tag_application.tag).data if activity.tag_application_id else None

    @extend_schema_field(ListRefSerializer(allow_null=True))
    def get_favourite_list(self, activity):
        return ListRefSerializer(activity.favourite.favourite_list).data if activity.favourite_id else None


class OwnActivitySerializer(ActivitySerializer):
    audience = serializers.ChoiceField(choices=Audience.choices, help_text="Who sees it now.")
    audience_label = serializers.CharField(source="get_audience_display")

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_actor(self, activity):
        return PersonRefSerializer(activity.actor).data


def _feed_page_serializer(name: str, item):
    return inline_serializer(
        name=name,
        fields={
            "results": item(many=True),
            "next_cursor": serializers.CharField(allow_null=True, help_text="Pass as `cursor` for older activity."),
            "next": serializers.CharField(allow_null=True),
        },
    )


CURSOR_PARAMETER = OpenApiParameter("cursor", str, description="`next_cursor` of the previous page.")


def _cursor(request):
    try:
        return selectors.Cursor.decode(request.query_params.get("cursor"))
    except ValueError as error:
        raise serializers.ValidationError({"cursor": [str(error)]}) from error


def _page_response(request, page, serializer_class=ActivitySerializer) -> Response:
    following = None
    if page.next:
        params = request.query_params.copy()
        params["cursor"] = page.next
        following = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return Response(
        {
            "results": serializer_class(page.activities, many=True).data,
            "next_cursor": page.next,
            "next": following,
        }
    )


class FeedAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["feed"],
        summary="The feed",
        description="`view=following` (signed in): what the people and shops I follow did, that I may see: each "
        "person's activity within the audience they chose, and the shops' new listings. `view=nearby` (signed "
        "in): what people in my country (`within=country`) or town (`within=city`) shared with me. "
        "`view=everyone`: what anyone shared with everyone. `kind` narrows to one kind of activity.",
        parameters=[
            OpenApiParameter("view", str, enum=["following", "nearby", "everyone"], default="following"),
            OpenApiParameter("kind", str, enum=ActivityKind.values),
            OpenApiParameter("within", str, enum=["country", "city"], default="country"),
            CURSOR_PARAMETER,
        ],
        responses=_feed_page_serializer("FeedPage", ActivitySerializer),
    )
    def get(self, request):
        view = request.query_params.get("view", "following")
        kind = request.query_params.get("kind")
        if kind and kind not in ActivityKind.values:
            raise serializers.ValidationError({"kind": [f"Choose one of: {', '.join(ActivityKind.values)}."]})
        if view not in {"following", "nearby", "everyone"}:
            raise serializers.ValidationError({"view": ["Choose following, nearby or everyone."]})
        cursor = _cursor(request)
        if view == "everyone":
            return _page_response(request, selectors.everyone_feed(cursor=cursor))
        if not request.user.is_authenticated:
            raise Http404("Sign in to see your feed.")
        if view == "nearby":
            within = request.query_params.get("within", selectors.Nearby.COUNTRY)
            if within not in {selectors.Nearby.COUNTRY, selectors.Nearby.CITY}:
                raise serializers.ValidationError({"within": ["Choose country or city."]})
            return _page_response(request, selectors.nearby_feed(viewer=request.user, within=within, cursor=cursor))
        page = selectors.following_feed(viewer=request.user, cursor=cursor, kinds=[kind] if kind else None)
        return _page_response(request, page)


class PeopleTaggedAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tags"],
        summary="What the people I follow tagged",
        description="Their tagging of listings, newest first, as far as each of them shares it with me.",
        parameters=[CURSOR_PARAMETER],
        responses=_feed_page_serializer("PeopleTaggedPage", ActivitySerializer),
    )
    def get(self, request):
        page = selectors.following_feed(viewer=request.user, cursor=_cursor(request), kinds=[ActivityKind.TAGGED])
        return _page_response(request, page)


class OwnActivityAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["activity"],
        summary="My activity",
        description="Everything Plural recorded of what I did, with who sees each now.",
        parameters=[CURSOR_PARAMETER],
        responses=_feed_page_serializer("OwnActivityPage", OwnActivitySerializer),
    )
    def get(self, request):
        return _page_response(
            request, selectors.own_activity(user=request.user, cursor=_cursor(request)), OwnActivitySerializer
        )


class ActivityWithdrawAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["activity"],
        summary="Withdraw one of my activities",
        description="It is deleted, and gone at once from every feed, profile and list. 404 unless it is mine.",
        responses={204: None},
    )
    def delete(self, request, pk: int):
        if not services.activity_withdraw(actor=request.user, activity_id=pk):
            raise Http404("No such activity.")
        return Response(status=status.HTTP_204_NO_CONTENT)


def _person(username: str) -> User:
    try:
        return person_by_username(username=username[:150])
    except User.DoesNotExist as missing:
        raise Http404("No such person.") from missing


class PersonActivityAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["activity"],
        summary="A person's activity",
        description="What they did that the caller may see under their choices (all of it, for themselves).",
        parameters=[CURSOR_PARAMETER],
        responses=_feed_page_serializer("PersonActivityPage", ActivitySerializer),
    )
    def get(self, request, username: str):
        page = selectors.person_activity(
            person=_person(username), viewer=request.user, cursor=_cursor(request), size=selectors.FEED_PAGE_SIZE
        )
        return _page_response(request, page)


# --- What I share -----------------------------------------------------------------------------------


def _explanation() -> str:
    html = render_to_string("social/_sharing_explained.html", {"min_support": recommendations.MIN_SUPPORT})
    return re.sub(r"\s+", " ", strip_tags(html)).strip()


class ConsentSerializer(serializers.Serializer):
    decision = serializers.CharField()
    wording_version = serializers.CharField()
    audiences = serializers.DictField(child=serializers.IntegerField())
    use_for_recommendations = serializers.BooleanField()
    decided_at = serializers.DateTimeField()


class SharingSerializer(serializers.Serializer):
    is_sharing = serializers.BooleanField()
    sharing_since = serializers.DateTimeField(allow_null=True)
    audiences = serializers.DictField(
        child=serializers.IntegerField(), help_text="subject -> audience (0 only me … 3 everyone); empty: not sharing"
    )
    defaults = serializers.DictField(child=serializers.IntegerField(), help_text="What is offered first.")
    use_for_recommendations = serializers.BooleanField()
    wording_version = serializers.CharField(help_text="Send it back with a choice: the explanation read.")
    explanation = serializers.CharField(help_text="What sharing means: show it before asking to choose.")
    history = ConsentSerializer(many=True)


def _sharing_data(user) -> dict:
    state = selectors.sharing_state(user=user)
    return {
        "is_sharing": state.is_sharing,
        "sharing_since": state.settings.sharing_since if state.settings else None,
        "audiences": state.audiences if state.is_sharing else {},
        "defaults": {str(key): value for key, value in services.DEFAULT_AUDIENCES.items()},
        "use_for_recommendations": state.use_for_recommendations,
        "wording_version": services.SHARING_WORDING_VERSION,
        "explanation": _explanation(),
        "history": state.history,
    }


def _sharing_input_fields() -> dict:
    fields = {
        subject.value: serializers.ChoiceField(choices=Audience.choices, help_text=f"Who sees {subject.label.lower()}")
        for subject in SharingSubject
    }
    fields["use_for_recommendations"] = serializers.BooleanField()
    fields["wording_version"] = serializers.CharField(help_text="The version of the explanation the person read.")
    return fields


SharingInputSerializer = type("SharingInputSerializer", (serializers.Serializer,), _sharing_input_fields())


class SharingAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["sharing"], summary="What I share, and with whom", responses=SharingSerializer)
    def get(self, request):
        return Response(SharingSerializer(_sharing_data(request.user)).data)

    @extend_schema(
        tags=["sharing"],
        summary="Choose what I share",
        description="One audience per subject (0 only me, 1 people I follow back, 2 my followers, 3 everyone) and "
        "whether my views and purchases count in recommendations, after reading `explanation`: send its "
        "`wording_version` back (a decision against an older explanation is refused). Recorded with its time; "
        "applies at once to everything done before.",
        request=SharingInputSerializer,
        responses=SharingSerializer,
    )
    def put(self, request):
        data = SharingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if values.pop("wording_version") != services.SHARING_WORDING_VERSION:
            raise serializers.ValidationError(
                {"wording_version": ["The explanation has changed: read the current one, then choose."]}
            )
        use = values.pop("use_for_recommendations")
        services.sharing_choose(user=request.user, audiences=values, use_for_recommendations=use)
        return Response(SharingSerializer(_sharing_data(request.user)).data)

    @extend_schema(
        tags=["sharing"],
        summary="Stop sharing anything",
        description="Everything I did becomes mine alone at once. Recorded with its time.",
        responses={200: SharingSerializer},
    )
    def delete(self, request):
        services.sharing_withdraw(user=request.user)
        return Response(SharingSerializer(_sharing_data(request.user)).data)


# --- Follows ------------------------------------------------------------------------------------------


class SocialFollowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    follower = PersonRefSerializer()
    person = PersonRefSerializer(allow_null=True)
    shop = ShopRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class FollowInputSerializer(serializers.Serializer):
    person = serializers.CharField(required=False, help_text="A username.")
    shop = serializers.CharField(required=False, help_text="A shop's slug.")

    def validate(self, attrs):
        if ("person" in attrs) == ("shop" in attrs):
            raise serializers.ValidationError({"non_field_errors": ["Name either a person or a shop."]})
        if "person" in attrs:
            try:
                attrs["person"] = person_by_username(username=attrs["person"][:150])
            except User.DoesNotExist as missing:
                raise serializers.ValidationError({"person": ["There is no such person."]}) from missing
        else:
            try:
                attrs["shop"] = selectors.shop_by_slug(slug=attrs["shop"])
            except Http404 as missing:
                raise serializers.ValidationError({"shop": ["There is no such shop."]}) from missing
        return attrs


class FollowListAPIView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = SocialFollowSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.following_of(viewer=self.request.user, person=self.request.user).select_related("follower")

    @extend_schema(tags=["follows"], summary="Whom I follow")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["follows"],
        summary="Follow a person or a shop",
        description="Their activity (as far as they share it with me) and new listings come to my feed. "
        "Following again changes nothing (200); following oneself is refused.",
        request=FollowInputSerializer,
        responses={201: SocialFollowSerializer, 200: SocialFollowSerializer},
    )
    def post(self, request):
        data = FollowInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = data.validated_data
        existed = selectors.is_following(follower=request.user, **target)
        follow = services.follow_create(follower=request.user, **target)
        return Response(
            SocialFollowSerializer(follow).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


class UnfollowPersonAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["follows"], summary="Stop following a person", responses={204: None})
    def delete(self, request, username: str):
        if not services.follow_delete(follower=request.user, person=_person(username)):
            raise Http404("You do not follow this person.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnfollowShopAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["follows"], summary="Stop following a shop", responses={204: None})
    def delete(self, request, slug: str):
        if not services.follow_delete(follower=request.user, shop=selectors.shop_by_slug(slug=slug)):
            raise Http404("You do not follow this shop.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowerRemoveAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["follows"], summary="Remove one of my followers", responses={204: None})
    def delete(self, request, username: str):
        if not services.follower_remove(person=request.user, follower=_person(username)):
            raise Http404("This person does not follow you.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonFollowersAPIView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = SocialFollowSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.followers_of(viewer=self.request.user, person=_person(self.kwargs["username"]))

    @extend_schema(
        tags=["follows"],
        summary="A person's followers",
        description="Each follower's own choice decides whether the caller sees that they follow; a person sees "
        "all their own followers.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PersonFollowingAPIView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = SocialFollowSerializer
    filter_backends: list = []

    def get_queryset(self):
        person = _person(self.kwargs["username"])
        return selectors.following_of(viewer=self.request.user, person=person).select_related("follower")

    @extend_schema(
        tags=["follows"],
        summary="Whom a person follows",
        description="As far as their choice for their follows lets the caller see.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ShopFollowersAPIView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = SocialFollowSerializer
    filter_backends: list = []

    def get_queryset(self):
        shop = selectors.shop_by_slug(slug=self.kwargs["slug"])
        return selectors.followers_of(viewer=self.request.user, shop=shop).select_related("shop")

    @extend_schema(
        tags=["follows"],
        summary="A shop's followers",
        description="Those whose choice lets the caller see that they follow it.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Favourites ---------------------------------------------------------------------------------------


class FavouriteListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    owner = PersonRefSerializer()
    visibility = serializers.ChoiceField(choices=ListVisibility.choices, help_text="0 only me, 2 followers, 3 everyone")
    item_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class FavouriteListInputSerializer(serializers.Serializer):
    # Validated by the service, which says what is wrong with a name.
    name = serializers.CharField(allow_blank=True, max_length=1000, required=False)
    visibility = serializers.IntegerField(required=False, help_text="0 only me, 2 followers, 3 everyone")


class FavouriteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    favourite_list = serializers.IntegerField(source="favourite_list_id")
    listing = ListingRefSerializer(allow_null=True)
    shop = ShopRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class FavouriteInputSerializer(serializers.Serializer):
    listing = serializers.IntegerField(required=False, help_text="A listing for sale.")
    shop = serializers.CharField(required=False, help_text="A shop's slug.")
    favourite_list = serializers.IntegerField(
        required=False, help_text="One of my lists (default: my private list “Favourites”)."
    )

    def validate(self, attrs):
        if ("listing" in attrs) == ("shop" in attrs):
            raise serializers.ValidationError({"non_field_errors": ["Name either a listing or a shop."]})
        request = self.context["request"]
        if "listing" in attrs:
            try:
                attrs["listing"] = access_listing_for_view(user=request.user, pk=attrs["listing"])
            except Http404 as missing:
                raise serializers.ValidationError(
                    {"listing": ["There is no such listing: it may have been deleted."]}
                ) from missing
        else:
            try:
                attrs["shop"] = selectors.shop_by_slug(slug=attrs["shop"])
            except Http404 as missing:
                raise serializers.ValidationError({"shop": ["There is no such shop."]}) from missing
        if "favourite_list" in attrs:
            try:
                attrs["favourite_list"] = selectors.access_own_list(user=request.user, pk=attrs["favourite_list"])
            except Http404 as missing:
                raise serializers.ValidationError({"favourite_list": ["Choose one of your own lists."]}) from missing
        return attrs


class FavouriteListsAPIView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = FavouriteListSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.lists_of(owner=self.request.user, viewer=self.request.user).select_related("owner")

    @extend_schema(tags=["favourites"], summary="My lists of favourites")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["favourites"],
        summary="A new list",
        request=FavouriteListInputSerializer,
        responses={201: FavouriteListSerializer},
    )
    def post(self, request):
        data = FavouriteListInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.favourite_list_create(
            owner=request.user,
            name=data.validated_data.get("name", ""),
            visibility=data.validated_data.get("visibility", ListVisibility.PRIVATE),
        )
        found = selectors.lists_of(owner=request.user, viewer=request.user).select_related("owner").get(pk=created.pk)
        return Response(FavouriteListSerializer(found).data, status=status.HTTP_201_CREATED)


def _visible_list(request, pk):
    found = selectors.access_favourite_list(viewer=request.user, pk=pk)
    return selectors.lists_of(owner=found.owner, viewer=request.user).select_related("owner").get(pk=found.pk)


class FavouriteListAPIView(APIView):
    permission_classes = [AllowAny]  # the access helpers answer 404 to whoever may not see or change it

    @extend_schema(tags=["favourites"], summary="A list", responses=FavouriteListSerializer)
    def get(self, request, pk: int):
        return Response(FavouriteListSerializer(_visible_list(request, pk)).data)

    @extend_schema(
        tags=["favourites"],
        summary="Rename my list or change who sees it",
        description="Made private, the favouriting of everything in it leaves every feed at once.",
        request=FavouriteListInputSerializer,
        responses=FavouriteListSerializer,
    )
    def patch(self, request, pk: int):
        found = selectors.access_own_list(user=request.user, pk=pk)
        data = FavouriteListInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.favourite_list_update(favourite_list=found, owner=request.user, **data.validated_data)
        return Response(FavouriteListSerializer(_visible_list(request, pk)).data)

    @extend_schema(tags=["favourites"], summary="Delete my list", responses={204: None})
    def delete(self, request, pk: int):
        found = selectors.access_own_list(user=request.user, pk=pk)
        services.favourite_list_delete(favourite_list=found, owner=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavouriteListItemsAPIView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = FavouriteSerializer
    filter_backends: list = []

    def get_queryset(self):
        found = selectors.access_favourite_list(viewer=self.request.user, pk=self.kwargs["pk"])
        return selectors.list_items(favourite_list=found, viewer=self.request.user)

    @extend_schema(tags=["favourites"], summary="What a list holds")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FavouritesAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["favourites"],
        summary="Save a listing or a shop",
        description="To one of my lists (my private list “Favourites” when none is named). A listing must be for "
        "sale; saving it again changes nothing. Price drops of saved listings are announced "
        "(favourite.price_dropped).",
        request=FavouriteInputSerializer,
        responses={201: FavouriteSerializer},
    )
    def post(self, request):
        data = FavouriteInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        favourite = services.favourite_add(owner=request.user, **data.validated_data)
        return Response(FavouriteSerializer(favourite).data, status=status.HTTP_201_CREATED)


class FavouriteAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["favourites"], summary="Take something out of my list", responses={204: None})
    def delete(self, request, pk: int):
        favourite = selectors.access_own_favourite(user=request.user, pk=pk)
        services.favourite_remove(owner=request.user, favourite=favourite)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonListsAPIView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = FavouriteListSerializer
    filter_backends: list = []

    def get_queryset(self):
        person = _person(self.kwargs["username"])
        return selectors.lists_of(owner=person, viewer=self.request.user).select_related("owner")

    @extend_schema(tags=["favourites"], summary="A person's lists that I may see")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Recommendations and trending ----------------------------------------------------------------------


class RecommendedSerializer(serializers.Serializer):
    title = serializers.CharField()
    creator = serializers.CharField()
    url = serializers.CharField()
    is_work = serializers.BooleanField(help_text="A work (all its copies) rather than one listing.")
    people = serializers.IntegerField(help_text="How many people are behind it.")


class RecommendationsSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Scope.CHOICES)
    also_viewed = RecommendedSerializer(many=True, help_text="People who looked at this also looked at.")
    also_bought = RecommendedSerializer(many=True, help_text="People who bought this also bought.")
    bought_percent = serializers.IntegerField(
        allow_null=True, help_text="N% of the people who looked at this bought it; null below the minimum."
    )
    min_support = serializers.IntegerField(help_text="No figure rests on fewer people than this.")


class RecommendationsAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["recommendations"],
        summary="Recommendations beside a listing or a work",
        description="Counted over everyone (`scope=everyone`) or over the people I follow (`scope=network`, "
        "signed in). Nothing is shown before `min_support` people are behind a figure.",
        parameters=[
            OpenApiParameter("listing", int),
            OpenApiParameter("work", int),
            OpenApiParameter("scope", str, enum=sorted(Scope.VALUES), default=Scope.EVERYONE),
        ],
        responses=RecommendationsSerializer,
    )
    def get(self, request):
        scope = request.query_params.get("scope", Scope.EVERYONE)
        if scope not in Scope.VALUES:
            raise serializers.ValidationError({"scope": ["Choose everyone or network."]})
        if scope == Scope.NETWORK and not request.user.is_authenticated:
            raise serializers.ValidationError({"scope": ["Sign in to count over the people you follow."]})
        listing_id, work_id = request.query_params.get("listing"), request.query_params.get("work")
        if bool(listing_id) == bool(work_id):
            raise serializers.ValidationError({"non_field_errors": ["Name either a listing or a work."]})
        if listing_id:
            found = recommendations.recommendations_for(
                viewer=request.user, scope=scope, listing=access_listing_for_view(user=request.user, pk=listing_id)
            )
        else:
            work = Work.objects.filter(pk=work_id).first() if str(work_id).isdigit() else None
            if work is None:
                raise Http404("No such work.")
            found = recommendations.recommendations_for(viewer=request.user, scope=scope, work=work)
        return Response(RecommendationsSerializer(found).data)


class TrendingItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()
    people = serializers.IntegerField()


class TrendingAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["feed"],
        summary="Trending this week",
        description="The listings and works most people looked at, the tags most people applied and the shops most "
        "people started following, over the last seven days (recomputed every quarter of an hour).",
        responses=TrendingItemSerializer(many=True),
    )
    def get(self, request):
        current = recommendations.trending()
        rows = [
            {"kind": "item", "name": entry.title, "url": entry.url, "people": entry.people} for entry in current.items
        ]
        rows += [
            {"kind": "tag", "name": entry.tag.name, "url": entry.tag.get_absolute_url(), "people": entry.people}
            for entry in current.tags
        ]
        rows += [
            {"kind": "shop", "name": entry.shop.name, "url": entry.shop.get_absolute_url(), "people": entry.people}
            for entry in current.shops
        ]
        return Response(TrendingItemSerializer(rows, many=True).data)
