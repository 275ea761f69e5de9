from django.urls import path

from . import views

app_name = "discovery"

urlpatterns = [
    path("for-you/", views.for_you, name="for_you"),
    path("for-you/not-interested/<int:pk>/", views.not_interested, name="not_interested"),
    path("trending/", views.trending, name="trending"),
    path("genres/<slug:slug>/join/", views.genre_join, name="genre_join"),
    path("genres/<slug:slug>/leave/", views.genre_leave, name="genre_leave"),
]
