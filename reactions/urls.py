from django.urls import path

from . import views

app_name = "reactions"

urlpatterns = [
    path("posts/<int:pk>/like/", views.like, name="post_like"),
    path("posts/<int:pk>/unlike/", views.unlike, name="post_unlike"),
    path("books/<int:pk>/review/", views.review_edit, name="review_edit"),
    path("reviews/<int:pk>/remove/", views.review_remove, name="review_remove"),
]
