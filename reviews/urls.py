from django.urls import path

from . import views

app_name = "reviews"
urlpatterns = [
    path("orders/<int:order_pk>/items/<int:item_pk>/review/", views.review_write, name="write_review"),
    path("orders/<int:order_pk>/rating/", views.rating_write, name="write_rating"),
    path("reviews/mine/", views.my_reviews, name="mine"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/vote/", views.review_vote, name="vote"),
    path("reviews/<int:pk>/flag/", views.subject_flag, {"kind": "review"}, name="flag_review"),
    path("reviews/<int:pk>/reply/", views.subject_reply, {"kind": "review"}, name="reply_review"),
    path("reviews/decisions/<int:decision_pk>/appeal/", views.appeal_create, name="appeal"),
    path("ratings/<int:pk>/", views.rating_detail, name="rating"),
    path("ratings/<int:pk>/flag/", views.subject_flag, {"kind": "rating"}, name="flag_rating"),
    path("ratings/<int:pk>/reply/", views.subject_reply, {"kind": "rating"}, name="reply_rating"),
    path("listings/<int:pk>/reviews/", views.listing_reviews, name="listing_reviews"),
    path("shops/<slug:slug>/reviews/", views.shop_reviews, name="shop_reviews"),
    path("shops/<slug:slug>/ratings/", views.shop_ratings, name="shop_ratings"),
    path("shops/<slug:slug>/dashboard/reviews/", views.dashboard_reviews, name="dashboard"),
    path("shops/<slug:slug>/dashboard/orders/<int:pk>/feedback/", views.buyer_feedback, name="buyer_feedback"),
    path("moderation/reviews/", views.moderation_queue, name="moderation"),
    path(
        "moderation/reviews/review/<int:pk>/decide/", views.moderation_decide, {"kind": "review"}, name="decide_review"
    ),
    path(
        "moderation/reviews/rating/<int:pk>/decide/", views.moderation_decide, {"kind": "rating"}, name="decide_rating"
    ),
    path("moderation/reviews/appeals/<int:pk>/decide/", views.moderation_appeal_decide, name="decide_appeal"),
]
