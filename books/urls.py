from django.urls import path

from . import views

app_name = "books"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:pk>/remove/", views.post_remove, name="post_remove"),
    path("books/<int:pk>/", views.book_detail, name="book_detail"),
    path("genres/<slug:slug>/", views.genre, name="genre"),
]
