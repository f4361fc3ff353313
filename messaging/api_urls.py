from django.urls import path

from . import api

urlpatterns = [
    path("conversations/", api.ConversationListAPIView.as_view(), name="api-conversations"),
    path("conversations/unread-count/", api.UnreadConversationsAPIView.as_view(), name="api-conversations-unread"),
    path("conversations/<int:pk>/", api.ConversationDetailAPIView.as_view(), name="api-conversation"),
    path("conversations/<int:pk>/messages/", api.MessagesAPIView.as_view(), name="api-conversation-messages"),
    path(
        "conversations/<int:pk>/messages/<int:message_id>/",
        api.MessageDetailAPIView.as_view(),
        name="api-conversation-message",
    ),
    path("conversations/<int:pk>/read/", api.ReadAPIView.as_view(), name="api-conversation-read"),
    path("conversations/<int:pk>/archive/", api.ArchiveAPIView.as_view(), name="api-conversation-archive"),
    path("conversations/<int:pk>/reports/", api.ReportsAPIView.as_view(), name="api-conversation-reports"),
    path("conversations/<int:pk>/offers/", api.ConversationOffersAPIView.as_view(), name="api-conversation-offers"),
    path("orders/<int:pk>/conversation/", api.OrderConversationAPIView.as_view(), name="api-order-conversation"),
    path(
        "shops/<slug:slug>/orders/<int:pk>/conversation/",
        api.ShopOrderConversationAPIView.as_view(),
        name="api-shop-order-conversation",
    ),
    path(
        "shops/<slug:slug>/conversation-value/",
        api.ConversationValueAPIView.as_view(),
        name="api-shop-conversation-value",
    ),
    path("blocks/", api.BlocksAPIView.as_view(), name="api-blocks"),
    path("blocks/<int:block_id>/", api.BlockDetailAPIView.as_view(), name="api-block"),
    path("moderation/reports/", api.ModerationReportsAPIView.as_view(), name="api-moderation-reports"),
    path(
        "moderation/reports/<int:report_id>/resolve/",
        api.ResolveReportAPIView.as_view(),
        name="api-moderation-report-resolve",
    ),
]
