from django.contrib import admin, messages

from . import ratings
from .models import BookRating, PostLike, Review


@admin.register(PostLike)
class PostLikeAdmin(admin.ModelAdmin):
    list_display = ("post", "user", "created_at")
    list_filter = ("created_at", "post__status")
    search_fields = ("user__username", "post__book__title", "=post__id")
    raw_id_fields = ("post", "user")
    date_hierarchy = "created_at"
    list_select_related = ("post__book", "post__owner", "user")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Saving or deleting here publishes the same events as the site does (signals), so
    the book's rating follows."""

    list_display = ("book", "user", "rating", "created_at", "updated_at")
    list_filter = ("rating", "created_at")
    search_fields = ("book__title", "user__username", "text")
    raw_id_fields = ("book", "user")
    date_hierarchy = "created_at"
    list_select_related = ("book", "user")
    readonly_fields = ("updated_at",)


@admin.register(BookRating)
class BookRatingAdmin(admin.ModelAdmin):
    """Written by the `reactions.book_rating` consumer; operators look, and recompute."""

    list_display = ("book", "average", "count", "updated_at")
    list_filter = ("count",)
    search_fields = ("book__title", "=book__id")
    list_select_related = ("book",)
    actions = ["recompute_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Recompute selected ratings from the reviews now")
    def recompute_selected(self, request, queryset):
        done = ratings.rebuild(queryset.values_list("book_id", flat=True))
        self.message_user(request, f"{done} rating(s) recomputed.", messages.SUCCESS)
