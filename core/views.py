from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from .audit import audit_entries, audited
from .csvexport import safe_cell
from .decorators import admin_only, role_required
from .selectors import access_job, job_list

AUDIT_PAGE = 50


@role_required()
def job_index(request):
    jobs = job_list(user=request.user)[:200]
    return render(request, "core/job_list.html", {"jobs": jobs})


@role_required()
def job_detail(request, job_id: int):
    job = access_job(user=request.user, job_id=job_id)
    errors = job.result.get("errors", []) if isinstance(job.result, dict) else []
    return render(request, "core/job_detail.html", {"job": job, "errors": errors[:200], "error_count": len(errors)})


@role_required()
def job_errors_csv(request, job_id: int):
    """The rows a job could not process, with line numbers and reasons, as CSV."""
    import csv

    job = access_job(user=request.user, job_id=job_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["line", "reason"])
    for line, reason in job.result.get("errors", []):
        writer.writerow([line, safe_cell(reason)])
    return response


@admin_only
def audit_trail(request):
    """Who changed which ICP, scoring model, play, territory, membership or SLA policy, when, and what changed."""
    label = request.GET.get("kind", "")
    kinds = [name for name, _ in audited()]
    if label and label not in kinds:
        label = ""
    try:
        page = max(1, min(int(request.GET.get("page", "1")), 1000))
    except ValueError:
        page = 1
    entries, more = audit_entries(label=label, limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE)
    context = {
        "entries": entries,
        "kinds": kinds,
        "kind": label,
        "page": page,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if more else None,
    }
    return render(request, "core/audit.html", context)


def not_found(request, exception=None):
    """404: JSON under /api/ (every API answer is JSON, even for a path no route matches), the page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /api/, the page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)
