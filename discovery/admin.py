"""Discovery's read models in the admin: derived rows are read-only (repair with
`manage.py discovery rebuild`); "not interested" marks can be removed."""

from django.contrib import admin

from . import models


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Signal)
class SignalAdmin(ReadOnlyAdmin):
    list_display = ("key", "user_id", "book_id", "kind", "public", "rating", "active", "changed_at")
    list_filter = ("kind", "public", "active")
    search_fields = ("key",)
    show_full_result_count = False


@admin.register(models.MemberBook)
class MemberBookAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "book_id", "in_basket", "since")
    list_filter = ("in_basket",)
    show_full_result_count = False


@admin.register(models.BookPair)
class BookPairAdmin(ReadOnlyAdmin):
    list_display = ("book_id", "other_id", "count")
    search_fields = ("=book_id",)
    show_full_result_count = False


@admin.register(models.BookStat)
class BookStatAdmin(ReadOnlyAdmin):
    list_display = ("book_id", "members")
    show_full_result_count = False


@admin.register(models.TrendingEpoch)
class TrendingEpochAdmin(ReadOnlyAdmin):
    list_display = ("id", "t0")


@admin.register(models.Trending)
class TrendingAdmin(ReadOnlyAdmin):
    list_display = ("book", "score")
    ordering = ("-score",)
    list_select_related = ("book",)
    show_full_result_count = False


@admin.register(models.TrendingGenre)
class TrendingGenreAdmin(ReadOnlyAdmin):
    list_display = ("genre_id", "book", "score")
    list_select_related = ("book",)
    show_full_result_count = False


@admin.register(models.TrendingDay)
class TrendingDayAdmin(ReadOnlyAdmin):
    list_display = ("book_id", "day", "count")
    show_full_result_count = False


@admin.register(models.Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = ("user", "book", "score", "reason", "reason_book", "reason_genre", "computed_at")
    list_filter = ("reason",)
    list_select_related = ("user", "book", "reason_book", "reason_genre")
    search_fields = ("user__username",)
    show_full_result_count = False


@admin.register(models.NotInterested)
class NotInterestedAdmin(admin.ModelAdmin):
    list_display = ("user", "book", "created_at")
    list_select_related = ("user", "book")
    raw_id_fields = ("user", "book")
    search_fields = ("user__username",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.GenreMember)
class GenreMemberAdmin(ReadOnlyAdmin):
    list_display = ("user", "genre", "joined_at")
    list_filter = ("genre",)
    list_select_related = ("user", "genre")


@admin.register(models.PendingRefresh)
class PendingRefreshAdmin(ReadOnlyAdmin):
    list_display = ("user_id", "due_at", "recompute")
    list_filter = ("recompute",)
    ordering = ("due_at",)
