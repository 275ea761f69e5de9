from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .isbn import to_isbn13
from .models import BookPost, Genre, Language
from .services import MAX_AUTHORS, split_author_names


class PostCreateForm(forms.Form):
    """/posts/new/: an ISBN, or a title and author (or both), and the offer."""

    isbn = forms.CharField(
        label="ISBN",
        required=False,
        max_length=20,
        help_text="ISBN-10 or ISBN-13, from the back cover or the copyright page.",
    )
    title = forms.CharField(required=False, max_length=300)
    subtitle = forms.CharField(required=False, max_length=300)
    authors = forms.CharField(
        label="Author(s)",
        required=False,
        max_length=1000,
        help_text="Separate several authors with a semicolon, first author first.",
    )
    publisher = forms.CharField(required=False, max_length=200)
    year = forms.IntegerField(required=False, min_value=1450, max_value=2100)
    language = forms.ChoiceField(choices=Language.choices, initial=Language.ENGLISH)
    genres = forms.ModelMultipleChoiceField(
        queryset=Genre.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    cover_url = forms.URLField(
        label="Cover image URL", required=False, max_length=500, assume_scheme="https"
    )
    cover = forms.FileField(
        label="…or upload a cover",
        required=False,
        help_text="JPEG, PNG, GIF or WebP, at most 2 MB.",
    )
    offer = forms.ChoiceField(choices=BookPost.Offer.choices, initial=BookPost.Offer.GIVE)
    condition = forms.ChoiceField(
        choices=BookPost.Condition.choices, initial=BookPost.Condition.GOOD
    )
    location = forms.CharField(
        required=False, max_length=120, help_text="Town or area, so people know how far it is."
    )
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)
    # The ISBN whose looked-up details fill the form (see catalogue.lookup).
    looked_up = forms.CharField(required=False, max_length=13, widget=forms.HiddenInput)

    # Shown first, in this order; the rest is folded away under "More details".
    BOOK_FIELDS = ("title", "authors")
    MORE_FIELDS = ("subtitle", "publisher", "year", "language", "description", "cover_url")
    EXTRA_FIELDS = ("genres", "cover")
    COPY_FIELDS = ("offer", "condition", "location")

    def clean_isbn(self) -> str | None:
        value = self.cleaned_data["isbn"].strip()
        return to_isbn13(value) if value else None

    def clean_authors(self) -> list[str]:
        names = split_author_names(self.cleaned_data["authors"])
        if len(names) > MAX_AUTHORS:
            raise ValidationError(f"At most {MAX_AUTHORS} authors, please.")
        return names

    def clean_cover(self):
        """Decoded and re-encoded under a pixel limit, metadata stripped, random name:
        only pixels are kept (see catalogue.images)."""
        from catalogue.images import reencode_upload

        upload = self.cleaned_data.get("cover")
        if not upload:
            return None
        return reencode_upload(upload)

    def clean(self):
        data = super().clean()
        isbn, title, authors = data.get("isbn"), data.get("title"), data.get("authors")
        if self.errors:
            return data
        if title and not authors:
            self.add_error("authors", "Enter the author too, so we can find the right book.")
        elif authors and not title:
            self.add_error("title", "Enter the title too.")
        elif not isbn and not (title and authors):
            raise ValidationError("Enter an ISBN, or the book's title and author.")
        # An ISBN alone is enough: the book's details are filled in the background.
        return data

    def book_details(self) -> dict:
        d = self.cleaned_data
        return {
            "subtitle": d.get("subtitle") or "",
            "publisher": d.get("publisher") or "",
            "year": d.get("year"),
            "language": d.get("language") or Language.ENGLISH,
            "description": d.get("description") or "",
            "cover_url": d.get("cover_url") or "",
            "cover": d.get("cover"),
            "genres": list(d.get("genres") or []),
        }


class PostEditForm(forms.ModelForm):
    class Meta:
        model = BookPost
        fields = ["offer", "condition", "location", "note", "status"]
        widgets = {"note": forms.Textarea}
        help_texts = {
            "status": "Mark it reserved while you arrange a handover, gone once it has left."
        }


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    genre = forms.SlugField(required=False, max_length=80)
    offer = forms.ChoiceField(required=False, choices=[("", "Any offer"), *BookPost.Offer.choices])
    status = forms.ChoiceField(
        required=False,
        choices=[*BookPost.Status.choices, ("any", "Any status")],
        initial=BookPost.Status.AVAILABLE,
    )
    language = forms.ChoiceField(required=False, choices=[("", "Any language"), *Language.choices])

    def __init__(self, *args, genres=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.genre_choices = list(genres) if genres is not None else list(Genre.objects.all())
        self.fields["genre"].widget = forms.Select(
            choices=[("", "Any genre"), *((g.slug, g.name) for g in self.genre_choices)]
        )

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def clean_genre(self) -> str:
        slug = self.cleaned_data["genre"]
        if slug and slug not in {g.slug for g in self.genre_choices}:
            raise ValidationError("There is no genre with that name.")
        return slug
