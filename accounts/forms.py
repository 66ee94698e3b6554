from django import forms
from django.conf import settings

from .imports import ImportFileError, final_mapping, import_kinds, kind_fields


def kind_choices() -> list[tuple[str, str]]:
    return [(k, k.capitalize()) for k in import_kinds()]


IGNORE = ""


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=kind_choices)
    file = forms.FileField(help_text="A CSV file in UTF-8 with a header row.")
    dry_run = forms.BooleanField(required=False, help_text="Check and count everything, write nothing.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than {settings.IMPORT_MAX_UPLOAD_MB} MB.")
        return upload


class ImportMappingForm(forms.Form):
    """For each field of the kind, which column of the file fills it (a column may fill several fields)."""

    def __init__(self, *args, kind: str, header: list[str], initial_mapping: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.header = header
        column_for = {t: c for c, ts in initial_mapping.items() for t in ts}
        choices = [(IGNORE, "— not in this file —")] + [(c, c) for c in header]
        for name, spec in kind_fields(kind).items():
            label = name + (" *" if spec.required else "")
            self.fields[f"field__{name}"] = forms.ChoiceField(
                label=label, choices=choices, required=False, initial=column_for.get(name, IGNORE), help_text=spec.help
            )

    def clean(self):
        cleaned = super().clean()
        mapping: dict[str, list[str]] = {}
        for key, column in cleaned.items():
            if key.startswith("field__") and column:
                mapping.setdefault(column, []).append(key.removeprefix("field__"))
        try:
            final_mapping(self.kind, self.header, mapping)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from None
        cleaned["mapping"] = mapping
        return cleaned
