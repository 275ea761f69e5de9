from django.urls import path

from . import views

app_name = "books"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("posts/new/", views.post_create, name="post_create"),
    path("genres/<slug:slug>/", views.genre, name="genre"),
]
