from django.urls import path

from . import views

app_name = "bench"

urlpatterns = [
    path("hello/", views.hello, name="hello"),
    path("one-query/", views.one_query, name="one_query"),
    path("naive-search/", views.naive_search, name="naive_search"),
    path("naive-list/", views.naive_list, name="naive_list"),
]
