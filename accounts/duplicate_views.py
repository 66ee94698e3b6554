"""The duplicates page (admins): candidate pairs found by the duplicates job, best first, and merging one pair after
a confirmation that says what will move."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from core.decorators import admin_only

from .duplicates import duplicate_jobs, duplicates_job_create, duplicates_job_enqueue
from .matching import DUPLICATE_MIN, NAME_CONFIDENT, NAME_DOUBTFUL
from .merge import account_merge, merge_preview
from .models import DuplicateCandidate

PAGE_SIZE = 50


def _evidence_words(evidence: dict) -> list[str]:
    words = []
    if evidence.get("same_domain"):
        words.append("Same domain")
    words.append(f"Names {float(evidence.get('name_similarity') or 0):.0f}% alike")
    if evidence.get("same_country"):
        words.append("Same country")
    else:
        words.append("Different countries")
    if evidence.get("other_domains"):
        words.append("Different domains")
    return words


@admin_only
@require_http_methods(["GET", "POST"])
def duplicate_list(request):
    if request.method == "POST":
        running = duplicate_jobs().filter(status__in=["queued", "running"]).first()
        if running is not None:
            messages.info(request, f"Duplicates are being looked for already (job #{running.pk}).")
            return redirect("account-duplicates")
        job = duplicates_job_create(by=request.user)
        duplicates_job_enqueue(job=job)
        messages.success(request, f"Looking for duplicate accounts as job #{job.pk}; the pairs show here once it ends.")
        return redirect("account-duplicates")
    pairs = DuplicateCandidate.objects.select_related("account_a", "account_b").order_by("-score", "id")
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    for pair in page.object_list:
        pair.words = _evidence_words(pair.evidence if isinstance(pair.evidence, dict) else {})
    return render(
        request,
        "accounts/duplicates.html",
        {
            "page": page,
            "last_job": duplicate_jobs().first(),
            "minimum": DUPLICATE_MIN,
            "confident": NAME_CONFIDENT,
            "doubtful": NAME_DOUBTFUL,
        },
    )


@admin_only
@require_http_methods(["GET", "POST"])
def duplicate_merge(request, pair_id: int):
    """Choose which account of the pair stays (`keep`), see what moves to it, and confirm."""
    pair = get_object_or_404(DuplicateCandidate.objects.select_related("account_a", "account_b"), pk=pair_id)
    accounts = {pair.account_a_id: pair.account_a, pair.account_b_id: pair.account_b}
    keep = request.POST.get("keep") if request.method == "POST" else request.GET.get("keep")
    try:
        survivor = accounts[int(keep)] if keep else pair.account_a
    except (KeyError, ValueError):
        raise Http404("That account is not one of this pair.") from None
    loser = pair.account_b if survivor.pk == pair.account_a_id else pair.account_a
    if request.method == "POST":
        try:
            record = account_merge(survivor=survivor, loser=loser, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("account-duplicates")
        moved = sum(v["moved"] + v["merged"] for v in record.moved.values())
        messages.success(
            request,
            f"{record.merged_name} was merged into {survivor.name}: {moved:,} records moved here.",
        )
        return redirect("account-detail", account_id=survivor.pk)
    return render(
        request,
        "accounts/duplicate_merge.html",
        {
            "pair": pair,
            "words": _evidence_words(pair.evidence if isinstance(pair.evidence, dict) else {}),
            "survivor": survivor,
            "loser": loser,
            "accounts": [pair.account_a, pair.account_b],
            "moves": merge_preview(survivor=survivor, loser=loser),
        },
    )
