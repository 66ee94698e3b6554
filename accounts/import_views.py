"""Imports for RevOps admins: upload a CSV, map its columns, run it as a job with a progress bar."""

from pathlib import Path

from django.contrib import messages
from django.shortcuts import redirect, render

from core.decorators import role_required
from core.roles import ADMIN

from .forms import ImportMappingForm, ImportUploadForm
from .imports import ImportFileError, auto_mapping, check_file
from .services import import_file_store, import_file_stored, import_job_create, import_job_enqueue

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
    form = ImportMappingForm(request.POST or None, kind=kind, header=header, initial_mapping=auto_mapping(kind, header))
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
        )
        import_job_enqueue(job=job)
        if not dry_run:
            del request.session[SESSION_KEY]
        return redirect("job-detail", job_id=job.pk)
    context = {"form": form, "pending": pending, "header": header, "rows": rows, "kind": kind}
    return render(request, "accounts/import_map.html", context)
