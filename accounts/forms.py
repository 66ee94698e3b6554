from django import forms
from django.conf import settings

from .imports import import_kinds, kind_fields, mapping_problems

KIND_LABELS = {"users": "People (users)"}


def kind_label(kind: str) -> str:
    """A kind of import as the pages name it: "Accounts", "Opportunities"."""
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def kind_choices() -> list[tuple[str, str]]:
    return [(k, kind_label(k)) for k in import_kinds()]


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
    """For each field of the kind, which column of the file fills it (a column may fill several fields). The fields
    are named by their labels, each column shown with a few of its values; the first proposal is guessed from the
    columns' names (imports.guess_mapping). The whole mapping is checked here, before any job starts: a required field
    or the key left without a column is said in words, and the form keeps every choice made."""

    def __init__(
        self,
        *args,
        kind: str,
        header: list[str],
        guessed: dict[str, str],
        samples: dict[str, list[str]] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.header = header
        self.samples = samples or {}
        choices = [(IGNORE, "— not in this file —")] + [(c, c) for c in header]
        for name, spec in kind_fields(kind).items():
            self.fields[f"field__{name}"] = forms.ChoiceField(
                label=spec.title,
                choices=choices,
                required=False,
                initial=guessed.get(name, IGNORE),
                help_text=spec.help,
            )
            self.fields[f"field__{name}"].field_name = name
            self.fields[f"field__{name}"].required_field = spec.required

    def rows(self) -> list[dict]:
        """Each field's row of the page: the bound field, whether it is required, the samples of the column chosen."""
        rows = []
        for bound in self:
            column = bound.value() or ""
            rows.append(
                {
                    "field": bound,
                    "required": bound.field.required_field,
                    "samples": self.samples.get(column, []) if column else [],
                }
            )
        return rows

    def chosen(self) -> dict[str, list[str]]:
        """{column: [field, ...]} as chosen (bound) or proposed (unbound)."""
        mapping: dict[str, list[str]] = {}
        for bound in self:
            column = bound.value()
            if column and column in self.header:
                mapping.setdefault(column, []).append(bound.field.field_name)
        return mapping

    def unmapped_columns(self) -> list[str]:
        chosen = self.chosen()
        return [column for column in self.header if column not in chosen]

    def clean(self):
        cleaned = super().clean()
        mapping: dict[str, list[str]] = {}
        for key, column in cleaned.items():
            if key.startswith("field__") and column:
                mapping.setdefault(column, []).append(key.removeprefix("field__"))
        for problem in mapping_problems(self.kind, [t for ts in mapping.values() for t in ts]):
            self.add_error(None, problem)
        cleaned["mapping"] = mapping
        return cleaned
