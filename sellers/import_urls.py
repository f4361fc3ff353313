from django.urls import path

from . import import_views

app_name = "imports"
urlpatterns = [
    path("shops/<slug:slug>/imports/", import_views.import_list, name="list"),
    path("shops/<slug:slug>/imports/<int:pk>/", import_views.import_detail, name="detail"),
    path("shops/<slug:slug>/imports/<int:pk>/report.csv", import_views.import_report, name="report"),
]
