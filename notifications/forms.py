from django import forms

from .models import Delivery, Kind


class PreferencesForm(forms.Form):
    """One choice per kind of notification."""

    def __init__(self, *args, initial_prefs: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Delivery.choices,
                initial=initial_prefs[kind.value],
                widget=forms.RadioSelect,
            )
