from django.urls import path

from . import views

app_name = "lists"

urlpatterns = [
    path("lists/", views.my_lists, name="mine"),
    path("lists/new/", views.list_create, name="create"),
    path("lists/<int:pk>/", views.list_detail, name="detail"),
    path("lists/<int:pk>/edit/", views.list_edit, name="edit"),
    path("lists/<int:pk>/delete/", views.list_delete, name="delete"),
    path("lists/<int:pk>/reorder/", views.list_reorder, name="reorder"),
    path("lists/<int:pk>/items/<int:item_id>/move/", views.item_move, name="item_move"),
    path("lists/<int:pk>/items/<int:item_id>/note/", views.item_note, name="item_note"),
    path("lists/<int:pk>/items/<int:item_id>/remove/", views.item_remove, name="item_remove"),
    path("lists/books/<int:book_id>/", views.book_lists_update, name="book_update"),
    path("lists/import/", views.import_upload, name="import"),
    path("lists/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("lists/import/<int:pk>/failed.csv", views.import_failed_csv, name="import_failed"),
]
