from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db import models

from . import search, services, suggestions
from .models import Author, Book, BookAuthor, BookPost, Genre, SearchEntry, SimilarPost
from .text import normalize


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class AuthorForm(forms.ModelForm):
    class Meta:
        model = Author
        fields = ["name"]

    def clean_name(self):
        # name_key is unique: "Émile Zola" and "emile zola" are one author (was a 500).
        name = self.cleaned_data["name"]
        taken = Author.objects.filter(name_key=normalize(name)[:200])
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                "This author is already in the catalogue (names are compared without case, "
                "accents or punctuation)."
            )
        return name


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    form = AuthorForm
    list_display = ("name", "name_key")
    search_fields = ("name", "name_key")


class BookAuthorInline(admin.TabularInline):
    model = BookAuthor
    extra = 1
    autocomplete_fields = ("author",)
    ordering = ("position",)


class BookAdminForm(forms.ModelForm):
    cover_url = forms.URLField(
        label="Cover image URL", required=False, max_length=500, assume_scheme="https"
    )

    class Meta:
        model = Book
        fields = "__all__"  # noqa: DJ007 - the admin edits every column

    def clean_cover(self):
        """A new upload is re-encoded like a member's (catalogue.images)."""
        from catalogue.images import reencode_upload

        cover = self.cleaned_data.get("cover")
        if isinstance(cover, UploadedFile):
            return reencode_upload(cover)
        return cover


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    form = BookAdminForm
    # A cover URL typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("title", "isbn13", "language", "year", "created_at")
    list_filter = ("language", "genres")
    search_fields = ("title", "isbn13", "credits__author__name")
    filter_horizontal = ("genres",)
    inlines = [BookAuthorInline]
    readonly_fields = ("match_key", "created_at")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.book_edited(book=form.instance, republish=change)


@admin.register(BookPost)
class BookPostAdmin(admin.ModelAdmin):
    list_display = ("book", "owner", "offer", "status", "location", "created_at")
    list_filter = ("status", "offer", "condition")
    search_fields = ("book__title", "owner__username", "location")
    raw_id_fields = ("book", "owner")
    date_hierarchy = "created_at"
    actions = ["reindex_selected", "refresh_suggestions"]

    @admin.action(description="Re-index selected posts for search now")
    def reindex_selected(self, request, queryset):
        indexed, removed = search.index_posts(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{indexed} post(s) indexed.", messages.SUCCESS)

    @admin.action(description="Recompute similar posts for selected posts now")
    def refresh_suggestions(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:500])
        for pk in ids:
            suggestions.post_refresh(pk)
        self.message_user(request, f"Suggestions refreshed for {len(ids)} post(s).")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tables written by consumers: operators look, and fix them with the commands."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SearchEntry)
class SearchEntryAdmin(ReadOnlyAdmin):
    list_display = ("post_id", "title", "authors", "status", "offer", "language", "indexed_at")
    list_filter = ("status", "offer", "language")
    search_fields = ("=post_id", "title", "authors", "isbn13")
    exclude = ("document",)


@admin.register(SimilarPost)
class SimilarPostAdmin(ReadOnlyAdmin):
    list_display = ("post", "similar_id", "score", "computed_at")
    search_fields = ("=post__id",)
    raw_id_fields = ("post",)
    list_select_related = ("post__book",)
