from django import forms
from django.utils import timezone

from .services import MAX_MESSAGE


class RequestForm(forms.Form):
    message = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: say hello, when and where you could meet.",
    )
    offered_post = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Book you offer in exchange",
    )

    def __init__(self, *args, swap_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if swap_choices is None:
            del self.fields["offered_post"]
        else:
            self.fields["offered_post"].choices = [("", "— choose one of your posts —")] + [
                (p.pk, p.book.title) for p in swap_choices
            ]


class DeclineForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300, label="Reason (optional)")


class HandOverForm(forms.Form):
    due_date = forms.DateField(
        required=False,
        label="Return by (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_due_date(self):
        value = self.cleaned_data.get("due_date")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError("The return date must be in the future.")
        return value


class MessageForm(forms.Form):
    body = forms.CharField(
        max_length=MAX_MESSAGE,
        label="Message",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
