from django.urls import path

from . import views

app_name = "catalogue"

urlpatterns = [
    path("catalogue/lookup/", views.lookup, name="lookup"),
    path("books/<int:pk>/prices/", views.prices, name="prices"),
    path("books/<int:pk>/lists/", views.book_lists, name="book_lists"),
]
