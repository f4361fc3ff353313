from django.urls import path

from . import api

urlpatterns = [
    path("notifications/", api.NotificationListAPIView.as_view(), name="api-notifications"),
    path("notifications/unread-count/", api.UnreadCountAPIView.as_view(), name="api-notifications-unread"),
    path("notifications/read-all/", api.MarkAllReadAPIView.as_view(), name="api-notifications-read-all"),
    path("notifications/settings/", api.PreferencesAPIView.as_view(), name="api-notification-preferences"),
    path("notifications/<int:pk>/read/", api.MarkReadAPIView.as_view(), name="api-notification-read"),
]
