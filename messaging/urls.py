from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/blocked/", views.blocks, name="blocks"),
    path("messages/blocked/<int:block_id>/remove/", views.unblock, name="unblock"),
    path("messages/moderation/", views.moderation, name="moderation"),
    path("messages/moderation/<int:report_id>/resolve/", views.resolve, name="resolve"),
    path("messages/new/<slug:slug>/", views.start, name="start"),
    path("messages/<int:pk>/", views.conversation, name="conversation"),
    path("messages/<int:pk>/archive/", views.archive, name="archive"),
    path("messages/<int:pk>/block/", views.block, name="block"),
    path("messages/<int:pk>/report/", views.report, name="report"),
    path("messages/<int:pk>/messages/<int:message_id>/delete/", views.message_delete, name="message_delete"),
    path("messages/<int:pk>/pictures/<int:attachment_id>/<str:size>/", views.attachment, name="attachment"),
    path("shops/<slug:slug>/messages/", views.shop_inbox, name="shop_inbox"),
    path("messages/<int:pk>/offer/", views.conversation_offer, name="conversation_offer"),
    path("orders/<int:pk>/message/", views.order_conversation, name="order_conversation"),
    path(
        "shops/<slug:slug>/dashboard/orders/<int:pk>/message/",
        views.shop_order_conversation,
        name="shop_order_conversation",
    ),
    path("shops/<slug:slug>/dashboard/conversation-value/", views.conversation_value, name="conversation_value"),
]
