"""Imports for RevOps admins: upload a CSV, map its columns, run it as a job with a progress bar, download the rows
it could not take."""

from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from core.csvexport import streamed_csv
from core.decorators import role_required
from core.jobs import result_value_text
from core.models import Job
from core.roles import ADMIN
from core.selectors import access_job

from .forms import ImportMappingForm, ImportUploadForm, kind_label
from .imports import (
    ImportFileError,
    check_file,
    computed_columns,
    computed_note,
    guess_mapping,
    key_sentence,
    reason_in_words,
    sample_values,
)
from .imports.rejects import LINE, REASON
from .services import (
    import_file_store,
    import_file_stored,
    import_job_create,
    import_job_enqueue,
    import_rejects_path,
)

SESSION_KEY = "pending_import"


@role_required(ADMIN)
def import_new(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        stored = import_file_store(source=form.cleaned_data["file"])
        try:
            check_file(stored)
        except ImportFileError as exc:
            stored.unlink(missing_ok=True)
            form.add_error("file", str(exc))
        else:
            request.session[SESSION_KEY] = {
                "token": stored.stem,
                "kind": form.cleaned_data["kind"],
                "filename": Path(form.cleaned_data["file"].name).name,
                "dry_run": form.cleaned_data["dry_run"],
            }
            return redirect("import-map")
    return render(request, "accounts/import_new.html", {"form": form})


@role_required(ADMIN)
def import_map(request):
    pending = request.session.get(SESSION_KEY)
    stored = import_file_stored(token=pending["token"]) if pending else None
    if stored is None:
        messages.warning(request, "Upload a file first.")
        return redirect("import-new")
    header, rows = check_file(stored)
    kind = pending["kind"]
    samples = sample_values(stored, header)
    form = ImportMappingForm(
        request.POST or None, kind=kind, header=header, guessed=guess_mapping(kind, header), samples=samples
    )
    if request.method == "POST" and form.is_valid():
        dry_run = pending["dry_run"] and "run_for_real" not in request.POST
        job = import_job_create(
            kind=kind,
            source=stored,
            stored=stored,
            filename=pending["filename"],
            mapping=form.cleaned_data["mapping"],
            dry_run=dry_run,
            created_by=request.user,
            complete=True,
        )
        import_job_enqueue(job=job)
        if not dry_run:
            del request.session[SESSION_KEY]
        return redirect("job-detail", job_id=job.pk)
    computed = computed_columns(kind, form.unmapped_columns())
    context = {
        "form": form,
        "pending": pending,
        "header": header,
        "rows": rows,
        "kind": kind,
        "kind_label": kind_label(kind),
        "columns": [(column, samples[column]) for column in header],
        "unmapped": [c for c in form.unmapped_columns() if c not in computed],
        "computed": computed_note(computed) if computed else "",
        "key_sentence": key_sentence(kind),
    }
    return render(request, "accounts/import_map.html", context)


def _import_job(request, job_id: int) -> Job:
    job = access_job(user=request.user, job_id=job_id)
    if job.kind != Job.Kind.IMPORT:
        raise Http404("No such import.")
    return job


@role_required(ADMIN)
def import_rejects(request, job_id: int):
    """The rows an import could not take, as uploaded (every original column), each with its line and the reason in
    words. Jobs from before the rows were kept give their lines and reasons only."""
    job = _import_job(request, job_id)
    name = f"{Path(job.params.get('filename') or 'import').stem}-not-imported.csv"
    path = import_rejects_path(job=job)
    if path is not None:
        return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="text/csv; charset=utf-8")
    kind = job.params.get("kind", "")
    errors = job.result.get("errors", []) if isinstance(job.result, dict) else []
    return streamed_csv(
        filename=name,
        header=[LINE, REASON],
        rows=([line, reason_in_words(kind, reason)] for line, reason in errors),
    )


def import_result_words(job: Job) -> dict:
    """An import job's result for its page (core.jobs.job_result_view): figures by label, reasons in words, the
    rejected rows to download. Registered in AccountsConfig.ready."""
    result = job.result if isinstance(job.result, dict) else {}
    summary = result.get("summary") or {}
    kind = job.params.get("kind") or summary.get("kind") or ""
    dry_run = bool(summary.get("dry_run", job.params.get("dry_run")))
    would = "Would be " if dry_run else ""
    rows = [("File", job.params.get("filename") or "—"), ("Holds", kind_label(kind))]
    if dry_run:
        rows.append(("Dry run", "Yes: everything was checked and counted, nothing was written"))
    if summary:
        rows += [
            ("Rows read", result_value_text(summary.get("rows", 0))),
            (f"{would}created".capitalize(), result_value_text(summary.get("created", 0))),
            (f"{would}updated".capitalize(), result_value_text(summary.get("updated", 0))),
            ("Unchanged", result_value_text(summary.get("unchanged", 0))),
            ("Not imported", result_value_text(summary.get("failed", 0))),
        ]
        if "matched" in summary:
            rows += [
                ("Matched to an existing account", result_value_text(summary.get("matched", 0))),
                ("Possible duplicates added", result_value_text(summary.get("possible_duplicates", 0))),
            ]
    errors = result.get("errors") or []
    words = {
        "summary": rows,
        "errors": [(line, reason_in_words(kind, reason)) for line, reason in errors[:200]],
    }
    matches = result.get("matches") or []
    if matches:
        words["matches"] = [(entry[0], entry[1]) for entry in matches[:200]]
        words["match_count"] = len(matches)
    if errors:
        words["download_url"] = reverse("import-rejects", args=[job.pk])
    return words
