import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.views import defaults

from .audit import audit_entries, audited
from .csvexport import safe_cell
from .decorators import admin_only, role_required
from .forms import ApiTokenForm
from .models import ApiToken
from .selectors import access_job, job_list
from .tokens import TokenLimitReached, token_create, token_revoke, token_status

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


NEW_TOKEN_KEY = "api_tokens_new"  # nosec B105: the name of a session key: the key of a token just made, until its page shows it


@role_required()
def api_tokens(request):
    """The signed-in user's API tokens: make one (its key is shown this once), see when each was last used.

    A made token redirects (post/redirect/get: reloading the page does not make another); the key waits in the session
    for that one page and is gone from it once shown."""
    token_id = new_key = new_token = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = token_create(request.user, name=form.cleaned_data["name"], days=form.days)
            except TokenLimitReached as error:
                form.add_error(None, str(error))
            else:
                request.session[NEW_TOKEN_KEY] = [token.pk, key]
                return redirect("api-tokens")
    else:
        form = ApiTokenForm(initial={"expires": str(settings.API_TOKEN_DAYS)})
        token_id, new_key = request.session.pop(NEW_TOKEN_KEY, None) or (None, None)
    tokens = list(ApiToken.objects.filter(user=request.user)[:200])
    now = timezone.now()
    for token in tokens:
        token.status = token_status(token, now)
        token.last_used = last_used_label(token.last_used_at, now)
        if token.pk == token_id:
            new_token = token
    context = {"form": form, "tokens": tokens, "new_key": new_token and new_key, "new_token": new_token}
    return render(request, "core/api_tokens.html", context)


def last_used_label(when, now) -> str:
    if when is None:
        return ""
    return "just now" if now - when < dt.timedelta(minutes=1) else f"{timesince(when, now)} ago"


@role_required()
def api_token_revoke(request, token_id: int):
    """Confirm, then revoke one of the user's own tokens (another user's token is 404)."""
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if request.method == "POST":
        if token_revoke(token):
            messages.success(request, f"Revoked “{token.name}”: programs using it are refused from now on.")
        return redirect("api-tokens")
    return render(request, "core/api_token_revoke.html", {"token": token, "status": token_status(token)})


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
