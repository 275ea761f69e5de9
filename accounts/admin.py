from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "email_verified_at",
        "date_joined",
        "last_login",
        "is_staff",
    )
    list_filter = ("is_staff", "is_active", "date_joined")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ("email_verified_at", "bio", "favourite_genres")}),
    )
    filter_horizontal = ("groups", "user_permissions", "favourite_genres")
