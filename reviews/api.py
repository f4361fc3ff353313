"""The reviews API: listing reviews, seller ratings, the shops' replies and their feedback on
buyers, helpful votes, reports, the moderation history and appeals, and the moderators' queue
and decisions (moderators only).

The same rules as the pages, through the same selectors and services: what a person may not
see answers 404 (anonymous included), and a refused service call is a 400 with field errors
(marketplace.api.exception_handler)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from catalog.selectors import access_listing_for_view
from marketplace.api import paginated_response
from orders.selectors import access_order_for_buyer, access_order_for_shop, shop_completion_rate
from sellers.selectors import is_shop_member, shop_for_storefront

from . import selectors, services
from .models import BuyerFeedback, FlagReason, ModerationDecision, Status

SORT_PARAMETER = OpenApiParameter(
    "sort", str, enum=list(selectors.SORTS), description=f"Order of the reviews (default {selectors.DEFAULT_SORT})"
)


# --- Serializers ----------------------------------------------------------------------------------------


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(source="reply_text")
    html = serializers.CharField(source="reply_html", help_text="Sanitised HTML rendered from the markdown.")
    signed_by = serializers.CharField(source="replied_by.public_name", allow_null=True, default=None)
    replied_at = serializers.DateTimeField()


class _WithReply(serializers.Serializer):
    reply = serializers.SerializerMethodField(help_text="The shop's one public reply, if it has replied.")

    @extend_schema_field(ReplySerializer(allow_null=True))
    def get_reply(self, subject) -> dict | None:
        return ReplySerializer(subject).data if subject.has_reply else None


class ReviewSerializer(_WithReply):
    id = serializers.IntegerField(source="pk")
    url = serializers.CharField(source="get_absolute_url")
    order_item = serializers.IntegerField(source="order_item_id")
    listing = serializers.IntegerField(source="listing_id", allow_null=True)
    work = serializers.IntegerField(source="work_id", allow_null=True)
    item_title = serializers.CharField()
    shop = serializers.CharField(source="shop.slug")
    shop_name = serializers.CharField(source="shop.name")
    author = serializers.CharField(source="author.username")
    author_name = serializers.CharField(source="author.public_name")
    verified_purchase = serializers.SerializerMethodField(help_text="Always true: only buyers review.")
    stars = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField(help_text="As written (markdown).")
    text_html = serializers.CharField(help_text="Sanitised HTML rendered from the markdown.")
    status = serializers.ChoiceField(choices=Status.choices)
    helpful_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    editable_until = serializers.DateTimeField()

    def get_verified_purchase(self, review) -> bool:
        return True


class RatingSerializer(_WithReply):
    id = serializers.IntegerField(source="pk")
    url = serializers.CharField(source="get_absolute_url")
    order = serializers.IntegerField(source="order_id")
    shop = serializers.CharField(source="shop.slug")
    shop_name = serializers.CharField(source="shop.name")
    author = serializers.CharField(source="author.username")
    author_name = serializers.CharField(source="author.public_name")
    overall = serializers.IntegerField()
    item_as_described = serializers.IntegerField()
    communication = serializers.IntegerField()
    shipping_speed = serializers.IntegerField()
    comment = serializers.CharField()
    comment_html = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    counts_towards_score = serializers.BooleanField(
        help_text="False for a repeat buyer's second rating of the shop within a week."
    )
    revealed_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was shown: once the shop left its feedback, or the window closed."
    )
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    editable_until = serializers.DateTimeField()


class RevisionSerializer(serializers.Serializer):
    content = serializers.DictField(help_text="The fields as they were before the edit.")
    written_at = serializers.DateTimeField()
    replaced_at = serializers.DateTimeField()


class FlagOutSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField()
    by_shop = serializers.BooleanField(source="reporter_is_shop")
    created_at = serializers.DateTimeField()
    settled = serializers.SerializerMethodField()

    def get_settled(self, flag) -> bool:
        return flag.decision_id is not None


class AppealOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    side = serializers.CharField()
    statement = serializers.CharField()
    created_at = serializers.DateTimeField()
    is_open = serializers.BooleanField()


class DecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    outcome = serializers.ChoiceField(choices=ModerationDecision.Outcome.choices)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    on_appeal = serializers.BooleanField(source="is_final", help_text="Made on an appeal: final.")
    moderator = serializers.SerializerMethodField(help_text="Shown to moderators only.")
    appeal = serializers.SerializerMethodField(help_text="The appeal against this decision, if any.")

    def get_moderator(self, decision) -> str | None:
        return decision.moderator.username if self.context.get("is_moderator") else None

    @extend_schema_field(AppealOutSerializer(allow_null=True))
    def get_appeal(self, decision) -> dict | None:
        appeal = getattr(decision, "appeal_against", None)  # a reverse one-to-one: missing means none
        return AppealOutSerializer(appeal).data if appeal is not None else None


class HistorySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    held_reason = serializers.CharField()
    flags = FlagOutSerializer(many=True)
    decisions = DecisionSerializer(many=True)
    you_may_appeal = serializers.CharField(
        allow_null=True, help_text="author or shop when you may appeal the latest decision; null otherwise."
    )


class FeedbackSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order_id")
    value = serializers.ChoiceField(choices=BuyerFeedback.Value.choices)
    comment = serializers.CharField()
    signed_by = serializers.CharField(source="author.public_name", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    revealed_at = serializers.DateTimeField(allow_null=True)


class StarRowSerializer(serializers.Serializer):
    stars = serializers.IntegerField()
    count = serializers.IntegerField()
    percent = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    average = serializers.DecimalField(max_digits=2, decimal_places=1, allow_null=True)
    distribution = StarRowSerializer(many=True)
    item_as_described = serializers.SerializerMethodField()
    communication = serializers.SerializerMethodField()
    shipping_speed = serializers.SerializerMethodField()

    def _dimension(self, figures, name):
        return next(
            str(average) if average is not None else None for key, _, average in figures.dimensions if key == name
        )

    @extend_schema_field(serializers.DecimalField(max_digits=2, decimal_places=1, allow_null=True))
    def get_item_as_described(self, figures):
        return self._dimension(figures, "item_as_described")

    @extend_schema_field(serializers.DecimalField(max_digits=2, decimal_places=1, allow_null=True))
    def get_communication(self, figures):
        return self._dimension(figures, "communication")

    @extend_schema_field(serializers.DecimalField(max_digits=2, decimal_places=1, allow_null=True))
    def get_shipping_speed(self, figures):
        return self._dimension(figures, "shipping_speed")


class CompletionSerializer(serializers.Serializer):
    percent = serializers.IntegerField(allow_null=True)
    fulfilled = serializers.IntegerField()
    counted = serializers.IntegerField()


class RatingSummarySerializer(serializers.Serializer):
    shop = serializers.CharField()
    score = serializers.DecimalField(
        max_digits=4, decimal_places=3, help_text="The damped (Bayesian) average that ranks shops."
    )
    all_time = FiguresSerializer()
    last_12_months = FiguresSerializer(source="recent")
    review_count = serializers.IntegerField(help_text="Published reviews of the shop's items.")
    review_average = serializers.DecimalField(max_digits=2, decimal_places=1, allow_null=True)
    held_count = serializers.IntegerField(help_text="Reviews and ratings ever held for a moderator.")
    taken_down_count = serializers.IntegerField(help_text="Reviews and ratings hidden or removed by moderators now.")
    completion_rate = CompletionSerializer(help_text="Orders of the last six months fulfilled without cancelling.")


class OrderFeedbackSerializer(serializers.Serializer):
    rating = RatingSerializer(allow_null=True)
    feedback = FeedbackSerializer(allow_null=True, help_text="The other side's, once revealed; null before.")
    window_closes_at = serializers.DateTimeField(allow_null=True)


class ReviewCreateSerializer(serializers.Serializer):
    order_item = serializers.IntegerField(help_text="An item of one of your orders, once shipped.")
    stars = serializers.IntegerField(help_text="From 1 to 5.")
    title = serializers.CharField(allow_blank=True, trim_whitespace=False)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="Plain text or markdown.")


class ReviewUpdateSerializer(serializers.Serializer):
    stars = serializers.IntegerField(required=False, help_text="From 1 to 5.")
    title = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class RatingUpdateSerializer(serializers.Serializer):
    overall = serializers.IntegerField(required=False, help_text="From 1 to 5.")
    item_as_described = serializers.IntegerField(required=False, help_text="From 1 to 5.")
    communication = serializers.IntegerField(required=False, help_text="From 1 to 5.")
    shipping_speed = serializers.IntegerField(required=False, help_text="From 1 to 5.")
    comment = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class RatingCreateSerializer(serializers.Serializer):
    order = serializers.IntegerField(help_text="One of your orders, once shipped.")
    overall = serializers.IntegerField(help_text="From 1 to 5.")
    item_as_described = serializers.IntegerField(help_text="From 1 to 5.")
    communication = serializers.IntegerField(help_text="From 1 to 5.")
    shipping_speed = serializers.IntegerField(help_text="From 1 to 5.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)


class FlagCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=FlagReason.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when the reason is 'other'."
    )


class FeedbackCreateSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="positive or neutral: feedback on buyers is never negative.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class DecisionCreateSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ModerationDecision.Outcome.choices)
    reason = serializers.CharField(allow_blank=True, help_text="Told to the author and the shop.")


class AppealCreateSerializer(serializers.Serializer):
    statement = serializers.CharField(allow_blank=True, trim_whitespace=False)


class QueuedReviewSerializer(ReviewSerializer):
    held_reason = serializers.CharField()
    open_flags = FlagOutSerializer(source="flags.all", many=True)


class QueuedRatingSerializer(RatingSerializer):
    held_reason = serializers.CharField()
    open_flags = FlagOutSerializer(source="flags.all", many=True)


class QueuedAppealSerializer(AppealOutSerializer):
    decision = DecisionSerializer()
    review = serializers.IntegerField(source="decision.review_id", allow_null=True)
    rating = serializers.IntegerField(source="decision.rating_id", allow_null=True)


class QueueSerializer(serializers.Serializer):
    reviews = QueuedReviewSerializer(many=True)
    ratings = QueuedRatingSerializer(many=True)
    appeals = QueuedAppealSerializer(many=True)


# --- Helpers ---------------------------------------------------------------------------------------------


def _valid(serializer_class, request, *, partial: bool = False) -> dict:
    data = serializer_class(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    return data.validated_data


SERIALIZERS = {"review": ReviewSerializer, "rating": RatingSerializer}


def _subject_out(subject) -> dict:
    return SERIALIZERS[subject.kind](subject).data


def _history_out(request, subject) -> dict:
    if not selectors.may_see_history(subject, request.user):
        raise Http404("No such review.")
    history = selectors.history_of(subject)
    is_moderator = selectors.can_moderate_reviews(request.user)
    latest = history.latest
    side = None
    if latest is not None and not hasattr(latest, "appeal_against"):
        side = selectors.appeal_side(decision=latest, user=request.user)
    return HistorySerializer(
        {
            "status": subject.status,
            "held_reason": subject.held_reason,
            "flags": history.flags,
            "decisions": history.decisions,
            "you_may_appeal": side,
        },
        context={"is_moderator": is_moderator},
    ).data


def _require_moderator(request) -> None:
    # A 404 for everyone else: the moderation endpoints do not exist for them.
    if not selectors.can_moderate_reviews(request.user):
        raise Http404("No such page.")


# --- Public lists ----------------------------------------------------------------------------------------


class ListingReviewsAPIView(APIView):
    permission_classes = [AllowAny]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["reviews"],
        summary="Reviews of a listing and of the other copies of its work",
        parameters=[SORT_PARAMETER],
        responses=ReviewSerializer(many=True),
    )
    def get(self, request, pk: int):
        listing = access_listing_for_view(user=request.user, pk=pk)
        reviews = selectors.listing_reviews(listing=listing, sort=request.query_params.get("sort", ""))
        return paginated_response(request, self, reviews, ReviewSerializer)


class ShopReviewsAPIView(APIView):
    permission_classes = [AllowAny]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["reviews"],
        summary="Reviews of a shop's items",
        parameters=[SORT_PARAMETER],
        responses=ReviewSerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = shop_for_storefront(slug=slug)
        reviews = selectors.shop_reviews(shop=shop, sort=request.query_params.get("sort", ""))
        return paginated_response(request, self, reviews, ReviewSerializer)


class ShopRatingsAPIView(APIView):
    permission_classes = [AllowAny]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["ratings"],
        summary="A shop's ratings (those shown: published and revealed), newest first",
        responses=RatingSerializer(many=True),
    )
    def get(self, request, slug: str):
        shop = shop_for_storefront(slug=slug)
        return paginated_response(request, self, selectors.shop_ratings(shop=shop), RatingSerializer)


class ShopRatingSummaryAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["ratings"],
        summary="A shop's rating: all time and the last 12 months, score, completion rate, moderation counts",
        responses=RatingSummarySerializer,
    )
    def get(self, request, slug: str):
        shop = shop_for_storefront(slug=slug)
        rating = selectors.shop_rating(shop=shop)
        data = {
            "shop": shop.slug,
            "score": rating.score,
            "all_time": rating.all_time,
            "recent": rating.recent,
            "review_count": rating.review_count,
            "review_average": rating.review_average,
            "held_count": rating.held_count,
            "taken_down_count": rating.taken_down_count,
            "completion_rate": shop_completion_rate(shop=shop),
        }
        return Response(RatingSummarySerializer(data).data)


# --- Reviews ---------------------------------------------------------------------------------------------


class ReviewListAPIView(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(
        tags=["reviews"],
        summary="My reviews (all, held and taken down ones too)",
        responses=ReviewSerializer(many=True),
    )
    def get(self, request):
        return paginated_response(request, self, selectors.reviews_by(user=request.user), ReviewSerializer)

    @extend_schema(
        tags=["reviews"],
        summary="Review an item I bought",
        description="Once the shop has shipped it; one review per item; never of one's own shop. Published at "
        "once, or held for a moderator when it is part of a burst of reviews from new or single-shop accounts.",
        request=ReviewCreateSerializer,
        responses={201: ReviewSerializer},
    )
    def post(self, request):
        data = _valid(ReviewCreateSerializer, request)
        review = services.review_create(author=request.user, order_item_id=data.pop("order_item"), **data)
        return Response(_subject_out(review), status=status.HTTP_201_CREATED)


class ReviewAPIView(APIView):
    permission_classes = [AllowAny]  # access_review answers 404 to everyone who may not see it

    @extend_schema(tags=["reviews"], summary="A review", responses=ReviewSerializer)
    def get(self, request, pk: int):
        return Response(_subject_out(selectors.access_review(user=request.user, review_id=pk)))

    @extend_schema(
        tags=["reviews"],
        summary="Edit my review",
        description="Within the edit window and until the shop replies; the version replaced is kept.",
        request=ReviewUpdateSerializer,
        responses=ReviewSerializer,
    )
    def patch(self, request, pk: int):
        review = selectors.access_review(user=request.user, review_id=pk)
        data = _valid(ReviewUpdateSerializer, request, partial=True)
        fields = {"stars": review.stars, "title": review.title, "text": review.text, **data}
        return Response(_subject_out(services.review_update(review=review, author=request.user, **fields)))


class _SubjectAPIView(APIView):
    permission_classes = [AllowAny]
    kind = "review"

    def subject(self, request, pk):
        return selectors.access_subject(user=request.user, kind=self.kind, subject_id=pk)


class ReviewRevisionsAPIView(_SubjectAPIView):
    @extend_schema(tags=["reviews"], summary="A review's earlier versions", responses=RevisionSerializer(many=True))
    def get(self, request, pk: int):
        return Response(RevisionSerializer(selectors.revisions_of(self.subject(request, pk)), many=True).data)


class ReviewVoteAPIView(_SubjectAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["reviews"],
        summary="Find a review helpful",
        description="Once per person; not one's own, nor a review of one's own shop.",
        request=None,
        responses={201: ReviewSerializer},
    )
    def post(self, request, pk: int):
        review = self.subject(request, pk)
        services.vote_add(review=review, voter=request.user)
        return Response(_subject_out(review), status=status.HTTP_201_CREATED)

    @extend_schema(tags=["reviews"], summary="Take back my helpful vote", request=None, responses=ReviewSerializer)
    def delete(self, request, pk: int):
        review = self.subject(request, pk)
        if not services.vote_remove(review=review, voter=request.user):
            raise Http404("You have not voted on this review.")
        return Response(_subject_out(review))


class ReviewFlagAPIView(_SubjectAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["reviews"],
        summary="Report a review to the moderators",
        request=FlagCreateSerializer,
        responses={201: FlagOutSerializer},
    )
    def post(self, request, pk: int):
        data = _valid(FlagCreateSerializer, request)
        flag = services.flag_create(subject=self.subject(request, pk), reporter=request.user, **data)
        return Response(FlagOutSerializer(flag).data, status=status.HTTP_201_CREATED)


class RatingFlagAPIView(ReviewFlagAPIView):
    kind = "rating"

    @extend_schema(
        tags=["ratings"],
        summary="Report a rating to the moderators",
        request=FlagCreateSerializer,
        responses={201: FlagOutSerializer},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class ReviewReplyAPIView(_SubjectAPIView):
    permission_classes = [IsAuthenticated]

    def _reply(self, request, pk):
        subject = self.subject(request, pk)
        if not is_shop_member(user=request.user, shop=subject.shop):
            raise Http404("No such review.")
        data = _valid(TextSerializer, request)
        return Response(_subject_out(services.reply_create(subject=subject, actor=request.user, text=data["text"])))

    @extend_schema(
        tags=["reviews"],
        summary="Reply to a review of my shop (once, signed)",
        request=TextSerializer,
        responses=ReviewSerializer,
    )
    def post(self, request, pk: int):
        return self._reply(request, pk)


class RatingReplyAPIView(ReviewReplyAPIView):
    kind = "rating"

    @extend_schema(
        tags=["ratings"],
        summary="Reply to a rating of my shop (once, signed)",
        request=TextSerializer,
        responses=RatingSerializer,
    )
    def post(self, request, pk: int):
        return self._reply(request, pk)


class ReviewHistoryAPIView(_SubjectAPIView):
    @extend_schema(
        tags=["reviews"],
        summary="A review's moderation history (its author, the shop and moderators)",
        responses=HistorySerializer,
    )
    def get(self, request, pk: int):
        return Response(_history_out(request, self.subject(request, pk)))


class RatingHistoryAPIView(ReviewHistoryAPIView):
    kind = "rating"

    @extend_schema(
        tags=["ratings"],
        summary="A rating's moderation history (its author, the shop and moderators)",
        responses=HistorySerializer,
    )
    def get(self, request, pk: int):
        return super().get(request, pk)


# --- Ratings ---------------------------------------------------------------------------------------------


class RatingListAPIView(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    @extend_schema(tags=["ratings"], summary="My ratings of shops", responses=RatingSerializer(many=True))
    def get(self, request):
        return paginated_response(request, self, selectors.ratings_by(user=request.user), RatingSerializer)

    @extend_schema(
        tags=["ratings"],
        summary="Rate the shop of one of my orders",
        description="Once the order has shipped, once per order, while the window is open. It is shown (and "
        "counted) once the shop has left its feedback on you, or when the window closes.",
        request=RatingCreateSerializer,
        responses={201: RatingSerializer},
    )
    def post(self, request):
        data = _valid(RatingCreateSerializer, request)
        rating = services.rating_create(author=request.user, order_id=data.pop("order"), **data)
        return Response(_subject_out(rating), status=status.HTTP_201_CREATED)


class RatingAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(tags=["ratings"], summary="A rating", responses=RatingSerializer)
    def get(self, request, pk: int):
        return Response(_subject_out(selectors.access_rating(user=request.user, rating_id=pk)))

    @extend_schema(
        tags=["ratings"],
        summary="Change my rating (until it is shown)",
        request=RatingUpdateSerializer,
        responses=RatingSerializer,
    )
    def patch(self, request, pk: int):
        rating = selectors.access_rating(user=request.user, rating_id=pk)
        data = _valid(RatingUpdateSerializer, request, partial=True)
        fields = {name: getattr(rating, name) for name in (*services.RATING_FIELDS, "comment")} | data
        return Response(_subject_out(services.rating_update(rating=rating, author=request.user, **fields)))


class RatingRevisionsAPIView(ReviewRevisionsAPIView):
    kind = "rating"

    @extend_schema(tags=["ratings"], summary="A rating's earlier versions", responses=RevisionSerializer(many=True))
    def get(self, request, pk: int):
        return super().get(request, pk)


# --- Feedback on both sides of an order ---------------------------------------------------------------------


class OrderFeedbackAPIView(APIView):
    permission_classes = [AllowAny]  # access_order_for_buyer answers 404 to everyone but the buyer

    @extend_schema(
        tags=["ratings"],
        summary="My rating of the shop of one of my orders, and the shop's feedback on me once revealed",
        responses=OrderFeedbackSerializer,
    )
    def get(self, request, pk: int):
        order = access_order_for_buyer(user=request.user, order_id=pk)
        state = selectors.order_review_state(order=order)
        feedback = state.feedback if state.feedback_is_visible else None
        return Response(
            OrderFeedbackSerializer(
                {"rating": state.rating, "feedback": feedback, "window_closes_at": state.window_closes_at}
            ).data
        )


class ShopOrderFeedbackAPIView(APIView):
    permission_classes = [AllowAny]  # access_order_for_shop answers 404 to everyone but the shop's people

    @extend_schema(
        tags=["ratings"],
        summary="The shop's feedback on the buyer of an order, and the buyer's rating once revealed",
        responses=OrderFeedbackSerializer,
    )
    def get(self, request, slug: str, pk: int):
        _, order = access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        state = selectors.shop_order_feedback_state(order=order)
        return Response(
            OrderFeedbackSerializer(
                {
                    "rating": state.rating if state.rating_is_visible else None,
                    "feedback": state.feedback,
                    "window_closes_at": state.window_closes_at,
                }
            ).data
        )

    @extend_schema(
        tags=["ratings"],
        summary="Leave feedback on the buyer of an order (positive or neutral)",
        description="Once the order has shipped, once per order, while the window is open; revealed together "
        "with the buyer's rating.",
        request=FeedbackCreateSerializer,
        responses={201: FeedbackSerializer},
    )
    def post(self, request, slug: str, pk: int):
        _, order = access_order_for_shop(user=request.user, slug=slug, order_id=pk)
        data = _valid(FeedbackCreateSerializer, request)
        feedback = services.buyer_feedback_create(order=order, actor=request.user, **data)
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


# --- Appeals ---------------------------------------------------------------------------------------------


class AppealAPIView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["moderation"],
        summary="Appeal a moderator's decision (once)",
        description="By the author of what a moderator took down, or by the shop whose report was refused. A "
        "different moderator decides; a decision on an appeal is final.",
        request=AppealCreateSerializer,
        responses={201: AppealOutSerializer},
    )
    def post(self, request, pk: int):
        decision = selectors.access_decision(user=request.user, decision_id=pk)
        data = _valid(AppealCreateSerializer, request)
        appeal = services.appeal_file(decision=decision, appellant=request.user, statement=data["statement"])
        return Response(AppealOutSerializer(appeal).data, status=status.HTTP_201_CREATED)


# --- Moderation (moderators only) ----------------------------------------------------------------------------


class ModerationQueueAPIView(APIView):
    permission_classes = [AllowAny]  # 404 for everyone but moderators

    @extend_schema(
        tags=["moderation"],
        summary="What waits for a moderator: held and reported reviews and ratings, open appeals",
        responses=QueueSerializer,
    )
    def get(self, request):
        _require_moderator(request)
        queue = selectors.moderation_queue()
        return Response(QueueSerializer(queue, context={"is_moderator": True}).data)


class ReviewDecisionAPIView(APIView):
    permission_classes = [AllowAny]
    kind = "review"

    @extend_schema(
        tags=["moderation"],
        summary="Decide on a review: keep, hide or remove, with the reason",
        request=DecisionCreateSerializer,
        responses={201: DecisionSerializer},
    )
    def post(self, request, pk: int):
        _require_moderator(request)
        subject = selectors.access_subject_for_moderator(user=request.user, kind=self.kind, subject_id=pk)
        data = _valid(DecisionCreateSerializer, request)
        decision = services.decision_make(subject=subject, moderator=request.user, **data)
        return Response(
            DecisionSerializer(decision, context={"is_moderator": True}).data, status=status.HTTP_201_CREATED
        )


class RatingDecisionAPIView(ReviewDecisionAPIView):
    kind = "rating"

    @extend_schema(
        tags=["moderation"],
        summary="Decide on a rating: keep, hide or remove, with the reason",
        request=DecisionCreateSerializer,
        responses={201: DecisionSerializer},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class AppealDecisionAPIView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["moderation"],
        summary="Decide an appeal (a different moderator than the one who decided)",
        request=DecisionCreateSerializer,
        responses={201: DecisionSerializer},
    )
    def post(self, request, pk: int):
        appeal = selectors.access_appeal_for_moderator(user=request.user, appeal_id=pk)
        data = _valid(DecisionCreateSerializer, request)
        decision = services.appeal_decide(appeal=appeal, moderator=request.user, **data)
        return Response(
            DecisionSerializer(decision, context={"is_moderator": True}).data, status=status.HTTP_201_CREATED
        )
