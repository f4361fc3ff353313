from django.urls import path

from . import api

urlpatterns = [
    path("listings/<int:pk>/reviews/", api.ListingReviewsAPIView.as_view(), name="api-listing-reviews"),
    path("shops/<slug:slug>/reviews/", api.ShopReviewsAPIView.as_view(), name="api-shop-reviews"),
    path("shops/<slug:slug>/ratings/", api.ShopRatingsAPIView.as_view(), name="api-shop-ratings"),
    path("shops/<slug:slug>/rating-summary/", api.ShopRatingSummaryAPIView.as_view(), name="api-shop-rating-summary"),
    path(
        "shops/<slug:slug>/orders/<int:pk>/buyer-feedback/",
        api.ShopOrderFeedbackAPIView.as_view(),
        name="api-shop-order-buyer-feedback",
    ),
    path("orders/<int:pk>/feedback/", api.OrderFeedbackAPIView.as_view(), name="api-order-feedback"),
    path("reviews/", api.ReviewListAPIView.as_view(), name="api-reviews"),
    path("reviews/<int:pk>/", api.ReviewAPIView.as_view(), name="api-review"),
    path("reviews/<int:pk>/revisions/", api.ReviewRevisionsAPIView.as_view(), name="api-review-revisions"),
    path("reviews/<int:pk>/vote/", api.ReviewVoteAPIView.as_view(), name="api-review-vote"),
    path("reviews/<int:pk>/flags/", api.ReviewFlagAPIView.as_view(), name="api-review-flags"),
    path("reviews/<int:pk>/reply/", api.ReviewReplyAPIView.as_view(), name="api-review-reply"),
    path("reviews/<int:pk>/moderation/", api.ReviewHistoryAPIView.as_view(), name="api-review-moderation"),
    path("ratings/", api.RatingListAPIView.as_view(), name="api-ratings"),
    path("ratings/<int:pk>/", api.RatingAPIView.as_view(), name="api-rating"),
    path("ratings/<int:pk>/revisions/", api.RatingRevisionsAPIView.as_view(), name="api-rating-revisions"),
    path("ratings/<int:pk>/flags/", api.RatingFlagAPIView.as_view(), name="api-rating-flags"),
    path("ratings/<int:pk>/reply/", api.RatingReplyAPIView.as_view(), name="api-rating-reply"),
    path("ratings/<int:pk>/moderation/", api.RatingHistoryAPIView.as_view(), name="api-rating-moderation"),
    path("review-decisions/<int:pk>/appeal/", api.AppealAPIView.as_view(), name="api-review-decision-appeal"),
    path("moderation/reviews/", api.ModerationQueueAPIView.as_view(), name="api-review-moderation-queue"),
    path(
        "moderation/reviews/<int:pk>/decisions/",
        api.ReviewDecisionAPIView.as_view(),
        name="api-review-moderation-decide",
    ),
    path(
        "moderation/ratings/<int:pk>/decisions/",
        api.RatingDecisionAPIView.as_view(),
        name="api-rating-moderation-decide",
    ),
    path(
        "moderation/review-appeals/<int:pk>/decision/",
        api.AppealDecisionAPIView.as_view(),
        name="api-review-appeal-decide",
    ),
]
