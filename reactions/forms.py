from django import forms

from .models import RATING_MAX, RATING_MIN
from .services import REVIEW_TEXT_MAX

RATING_CHOICES = [
    (n, f"{n} star{'s' if n > 1 else ''}") for n in range(RATING_MAX, RATING_MIN - 1, -1)
]


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a rating from 1 to 5 stars.",
            "invalid_choice": "Choose a rating from 1 to 5 stars.",
        },
    )
    text = forms.CharField(
        label="Your review (optional)",
        required=False,
        max_length=REVIEW_TEXT_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Plain text; line breaks are kept.",
    )
