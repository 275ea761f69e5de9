from django import forms

from .importer import MAX_BYTES
from .models import ReadingList


class ListForm(forms.ModelForm):
    class Meta:
        model = ReadingList
        fields = ["name", "description", "is_public"]
        labels = {"is_public": "Anyone can see this list"}
        help_texts = {"is_public": "Private lists are seen by you alone."}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_builtin:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "Built-in lists keep their names."


class NoteForm(forms.Form):
    note = forms.CharField(max_length=280, required=False, label="Note")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Export file (CSV)",
        help_text=(
            "goodreads_library_export.csv from Goodreads, or StoryGraph's export. Up to 10 MB."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB. Export again, or split it.")
        if not upload.size:
            raise forms.ValidationError("The file is empty.")
        return upload
