"""The folksonomy's API: tags (with autocomplete), tag pages' data, tagging listings, following
tags, a person's own tags, and moderation. Thin: every rule is in catalog.tagging.

Reads are public (hidden tags answer 404 to all but moderators); writes need a signed-in
person and, with session authentication, the CSRF token. Moderation endpoints answer 404 to
everyone who does not moderate tags."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import person_by_username
from marketplace.conditional import ConditionalGetMixin
from social import selectors as social_selectors

from . import selectors, tagging
from .api import CatalogListingSerializer
from .models import Tag, TaggedListing

# --- Serializers ----------------------------------------------------------------------------------


class TagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url", help_text="The tag's page.")
    uses = serializers.IntegerField(source="use_count", help_text="How many times people applied it to a listing.")


class TagLinkSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField()
    listings = serializers.IntegerField(source="uses", help_text="Listings carrying both tags.")


class TagDetailSerializer(serializers.Serializer):
    """Serialises a tagging.TagPage."""

    name = serializers.CharField(source="tag.name")
    slug = serializers.CharField(source="tag.slug")
    url = serializers.CharField(source="tag.get_absolute_url")
    uses = serializers.IntegerField(source="tag.use_count")
    people = serializers.IntegerField(help_text="How many people applied it to listings for sale.")
    synonyms = serializers.ListField(child=serializers.CharField(), help_text="Other names leading to this tag.")
    related = TagLinkSerializer(many=True, help_text="The tags found most often on the same listings.")
    is_following = serializers.BooleanField(help_text="Whether the signed-in person follows it.")
    is_hidden = serializers.BooleanField(help_text="Only moderators ever see a hidden tag.")
    hidden_reason = serializers.CharField(source="tag.hidden_reason")


class ListingTagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField()
    people = serializers.IntegerField(help_text="How many people applied it to this listing.")
    shoppers = serializers.IntegerField(help_text="How many of them are not the shop's people.")
    from_shop = serializers.BooleanField(help_text="The shop applied it: a seller tag.")
    applied_by_me = serializers.BooleanField(
        source="applied_by_viewer", help_text="The signed-in person applied it (and may remove it)."
    )


class TagApplyInputSerializer(serializers.Serializer):
    # Validated by the service, which says exactly what is wrong with a tag.
    name = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=1000)


class TagApplicationSerializer(serializers.Serializer):
    tag = TagSerializer()
    listing = serializers.IntegerField(source="content_object_id")
    is_seller_tag = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class TaggedListingSerializer(CatalogListingSerializer):
    tagged_at = serializers.DateTimeField(help_text="When it last got one of the tags followed.")


class FollowSerializer(serializers.Serializer):
    tag = TagSerializer()
    created_at = serializers.DateTimeField()


class PersonTagListingSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    url = serializers.CharField()


class PersonTagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField(help_text="The tag's page, narrowed to this person's listings.")
    listing_count = serializers.IntegerField()
    listings = PersonTagListingSerializer(many=True, help_text="The latest few.")


class TagMergeInputSerializer(serializers.Serializer):
    into = serializers.CharField(max_length=1000, help_text="The name of the tag the synonym should lead to.")


class TagHideInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=1000)


class TagModerationSerializer(TagSerializer):
    is_hidden = serializers.BooleanField()
    hidden_reason = serializers.CharField()
    merged_into = serializers.CharField(source="merged_into.slug", allow_null=True, default=None)


class TagPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


# --- Helpers ----------------------------------------------------------------------------------------


def _main_tag(request, slug: str) -> Tag:
    """The tag the slug names, a synonym answering for its main tag."""
    tag = tagging.access_tag(user=request.user, slug=slug)
    return tag.merged_into or tag


def _moderated_tag(request, slug: str) -> Tag:
    if not tagging.can_moderate_tags(request.user):
        raise Http404("No such tag.")
    return tagging.access_tag(user=request.user, slug=slug)


def _tagged_by(request):
    username = request.query_params.get("by")
    if not username:
        return None
    return _person_sharing_tags(request, username)


def _person_sharing_tags(request, username: str):
    """The person, if their choice for their tagging lets the caller see what they tagged."""
    try:
        person = person_by_username(username=username[:150])
    except User.DoesNotExist as missing:
        raise Http404("No such person.") from missing
    if not social_selectors.shares_with(person=person, viewer=request.user, subject="tagged"):
        raise Http404("No such person.")
    return person


def _paginated_listings(view, queryset, serializer_class):
    page = view.paginate_queryset(queryset)
    listings = selectors.attach_card_tags(list(page))
    return view.get_paginated_response(serializer_class(listings, many=True).data)


# --- Tags -------------------------------------------------------------------------------------------


@extend_schema(
    tags=["tags"],
    summary="Tags, or autocomplete",
    description="Visible tags, the most used first. With `q`, the tags whose name (or a synonym's) starts with "
    "what was typed, compared as tags are stored (case, spacing and Unicode folded): the add-tag box's "
    "autocomplete. With `following=true`, only the tags the signed-in person follows.",
    parameters=[
        OpenApiParameter("q", str, description="The start of a tag name."),
        OpenApiParameter("following", bool, description="Only tags the signed-in person follows."),
    ],
)
class TagListAPIView(ConditionalGetMixin, generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = TagSerializer
    pagination_class = TagPagination
    filter_backends: list = []

    def get_queryset(self):
        query = self.request.query_params.get("q", "")
        tags = (
            tagging.tags_matching(query=query) if query else tagging.visible_main_tags().order_by("-use_count", "name")
        )
        if self.request.query_params.get("following") in {"1", "true", "yes"}:
            user = self.request.user
            tags = tags.filter(follows__user_id=user.pk) if user.is_authenticated else tags.none()
        return tags


class TagDetailAPIView(ConditionalGetMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["tags"],
        summary="One tag",
        description="How many people applied it, its synonyms and related tags. A synonym's slug answers with its "
        "main tag. Its listings: `/api/tags/{slug}/listings/`.",
        responses={200: TagDetailSerializer},
    )
    def get(self, request, slug: str):
        page = tagging.tag_page(tag=_main_tag(request, slug), viewer=request.user)
        return Response(TagDetailSerializer(page).data)


class TagListingsAPIView(ConditionalGetMixin, generics.GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = CatalogListingSerializer
    filter_backends: list = []

    @extend_schema(
        tags=["tags"],
        summary="Listings carrying a tag",
        description="Listings for sale carrying the tag or one of its synonyms, newest first; with `by`, only "
        "those that person tagged so.",
        parameters=[OpenApiParameter("by", str, description="A person's username.")],
        responses=CatalogListingSerializer(many=True),
    )
    def get(self, request, slug: str):
        listings = tagging.tag_listings(tag=_main_tag(request, slug), tagged_by=_tagged_by(request))
        return _paginated_listings(self, listings, CatalogListingSerializer)


class TagFollowAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tags"],
        summary="Follow a tag",
        description="New listings carrying it then appear in `/api/tags/following/` and, as notifications of "
        "kind tag.listed, in the notification centre. Following twice changes nothing.",
        request=None,
        responses={201: FollowSerializer},
    )
    def post(self, request, slug: str):
        follow = tagging.tag_follow(user=request.user, tag=_main_tag(request, slug))
        return Response(FollowSerializer(follow).data, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["tags"], summary="Stop following a tag", responses={204: None})
    def delete(self, request, slug: str):
        if not tagging.tag_unfollow(user=request.user, tag=_main_tag(request, slug)):
            raise Http404("You do not follow this tag.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowedTagListingsAPIView(generics.GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = TaggedListingSerializer
    filter_backends: list = []

    @extend_schema(
        tags=["tags"],
        summary="New listings under the tags I follow",
        description="Listings for sale carrying a tag the signed-in person follows, those that got such a tag "
        "most recently first.",
        responses=TaggedListingSerializer(many=True),
    )
    def get(self, request):
        return _paginated_listings(self, tagging.followed_tag_listings(user=request.user), TaggedListingSerializer)


# --- A listing's tags ---------------------------------------------------------------------------------


class ListingTagsAPIView(ConditionalGetMixin, APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(
        tags=["tags"],
        summary="A listing's tags",
        description="Its visible tags, the shop's own first, each with how many people applied it.",
        responses={200: ListingTagSerializer(many=True)},
    )
    def get(self, request, pk: int):
        listing = selectors.access_listing_for_view(user=request.user, pk=pk)
        summaries = tagging.listing_tag_summaries(listing_ids=[listing.pk], viewer=request.user)[listing.pk]
        return Response(ListingTagSerializer(summaries, many=True).data)

    @extend_schema(
        tags=["tags"],
        summary="Tag a listing",
        description="Any signed-in person may tag a listing for sale; the shop's people may tag any of its "
        "listings (seller tags). The name is normalised (case, spacing, Unicode), at most 50 characters, not "
        "punctuation alone; a synonym applies its main tag. 201 when applied, 200 when this person had "
        "already applied it.",
        request=TagApplyInputSerializer,
        responses={201: TagApplicationSerializer, 200: TagApplicationSerializer},
    )
    def post(self, request, pk: int):
        listing = selectors.access_listing_for_view(user=request.user, pk=pk)
        data = TagApplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        before = TaggedListing.objects.filter(content_object_id=listing.pk, tagged_by_id=request.user.pk)
        known = set(before.values_list("pk", flat=True))
        application = tagging.tag_apply(listing=listing, user=request.user, name=data.validated_data["name"])
        code = status.HTTP_200_OK if application.pk in known else status.HTTP_201_CREATED
        return Response(TagApplicationSerializer(application).data, status=code)


class ListingTagRemoveAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tags"],
        summary="Remove my tag from a listing",
        description="Only the person who applied a tag can remove it: 404 when the signed-in person did not.",
        responses={204: None},
    )
    def delete(self, request, pk: int, slug: str):
        listing = selectors.access_listing_for_view(user=request.user, pk=pk)
        if not tagging.tag_remove(listing=listing, user=request.user, slug=slug):
            raise Http404("You have not tagged this listing so.")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- A person's tags -----------------------------------------------------------------------------------


class PersonTagsAPIView(ConditionalGetMixin, APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["tags"],
        summary="A person's own tags",
        description="The tags a person put on listings for sale, alphabetically, each with its latest listings: "
        "their personal index. 404 unless their choice for their tagging includes the caller.",
        responses={200: PersonTagSerializer(many=True)},
    )
    def get(self, request, username: str):
        person = _person_sharing_tags(request, username)
        return Response(PersonTagSerializer(tagging.person_tag_index(person=person), many=True).data)


# --- Moderation ---------------------------------------------------------------------------------------


class TagMergeAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tags"],
        summary="Merge a synonym into a tag (moderators)",
        description="The tag in the path becomes a synonym of `into`: its applications and followers move there "
        "and both names lead to the same tag. Answers with the synonym.",
        request=TagMergeInputSerializer,
        responses={200: TagModerationSerializer},
    )
    def post(self, request, slug: str):
        synonym = _moderated_tag(request, slug)
        data = TagMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        into = tagging.find_tag(name=data.validated_data["into"])
        if into is None:
            raise serializers.ValidationError({"into": [f"No tag is called “{data.validated_data['into']}”."]})
        tagging.tag_merge(synonym=synonym, into=into, actor=request.user)
        synonym.refresh_from_db()
        return Response(TagModerationSerializer(synonym).data)


class TagHideAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tags"],
        summary="Hide a tag (moderators)",
        description="A hidden tag is shown nowhere and cannot be applied; the reason is kept with the decision.",
        request=TagHideInputSerializer,
        responses={200: TagModerationSerializer},
    )
    def post(self, request, slug: str):
        tag = _moderated_tag(request, slug)
        data = TagHideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = tagging.tag_hide(tag=tag, actor=request.user, reason=data.validated_data["reason"])
        return Response(TagModerationSerializer(tag).data)


class TagUnhideAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tags"],
        summary="Show a hidden tag again (moderators)",
        request=None,
        responses={200: TagModerationSerializer},
    )
    def post(self, request, slug: str):
        tag = tagging.tag_unhide(tag=_moderated_tag(request, slug), actor=request.user)
        return Response(TagModerationSerializer(tag).data)
