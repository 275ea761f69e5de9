from django.urls import path

from . import views

app_name = "exchanges"

urlpatterns = [
    path("posts/<int:pk>/request/", views.request_create, name="request_create"),
    path("posts/<int:pk>/requests/", views.post_requests, name="post_requests"),
    path("requests/mine/", views.my_requests, name="my_requests"),
    path("requests/incoming/", views.incoming_requests, name="incoming_requests"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/message/", views.request_message, name="request_message"),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request_action"),
]
