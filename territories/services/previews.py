"""Assignment previews: what a run would do, prepared as a job and stored, then read page by page.

A run's decisions are sequential (the rotation and the capacities carry from one account to the next), so a page of
moves cannot be worked out alone: it would take a run over every account before it. The preview therefore runs once,
streaming (a chunk of accounts at a time, like the apply), and COPYs each chunk's moves into `PlannedMove`, numbered
in order; the counts per rep and per territory are aggregated as it goes. A page is then a range of positions read by
index, as quick at page 5,000 of a million moves as at the first. A user keeps their latest preview only."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.bulk import copy_rows
from core.jobs import job_create, job_progress
from core.models import Job

from ..models import AssignmentPreview, PlannedMove
from .assignment import CHUNK, Move, _scope_filter, assignment_plan

PLANNED_MOVE_COLUMNS = (
    "preview_id", "position", "account_id", "account_name", "from_owner_id", "to_owner_id",
    "from_territory_id", "to_territory_id", "rule",
)  # fmt: skip
PREVIEW_TITLE = "assignment preview"


def assignment_preview_start(*, user, account_ids: list[int] | None = None) -> AssignmentPreview:
    """Prepare a new preview of an assignment run by `user` (of `account_ids`, or of every account in their reach)
    as a job, started once the job is committed."""
    from ..tasks import assignment_preview_task  # the task module imports this one

    _scope_filter(user=user)  # refuses reps
    with transaction.atomic():
        job = job_create(kind=Job.Kind.OTHER, created_by=user, title=PREVIEW_TITLE, params={})
        preview = AssignmentPreview.objects.create(created_by=user, job=job, account_ids=account_ids)
        job.params = {"preview_id": preview.pk}
        job.save(update_fields=["params"])
        transaction.on_commit(lambda: assignment_preview_task.delay(job.pk))
    return preview


def assignment_preview_compute(
    *, preview: AssignmentPreview, job: Job | None = None, chunk_size: int = CHUNK, today: dt.date | None = None
) -> AssignmentPreview:
    """Run the plan of `preview`'s user, storing its moves a chunk at a time, then its totals and counts; the user's
    older previews go. Safe to re-run: the moves stored by an interrupted run are replaced."""
    PlannedMove.objects.filter(preview=preview)._raw_delete(PlannedMove.objects.db)
    stored = 0

    def store(moves: list[Move]) -> None:
        nonlocal stored
        copy_rows(
            PlannedMove._meta.db_table,
            PLANNED_MOVE_COLUMNS,
            [
                (preview.pk, stored + i, m.account_id, m.account_name[:255], m.from_owner_id, m.to_owner_id,
                 m.from_territory_id, m.to_territory_id, m.rule[:200])
                for i, m in enumerate(moves)
            ],
        )  # fmt: skip
        stored += len(moves)

    def progress(done: int, total: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=total)

    plan = assignment_plan(
        user=preview.created_by, account_ids=preview.account_ids, today=today, on_moves=store, progress=progress,
        chunk_size=chunk_size,
    )  # fmt: skip
    preview.considered, preview.move_count = plan.considered, plan.move_count
    preview.unassigned, preview.outside_scope = plan.unassigned, plan.outside_scope
    preview.rep_counts = [
        {"user_id": r["user_id"], "name": r["name"], "before": r["before"], "after": r["after"]}
        for r in plan.rep_counts()
    ]
    preview.territory_counts = plan.territory_counts()
    preview.status, preview.finished_at = AssignmentPreview.Status.READY, timezone.now()
    preview.save(
        update_fields=[
            "considered", "move_count", "unassigned", "outside_scope", "rep_counts", "territory_counts", "status",
            "finished_at",
        ]
    )  # fmt: skip
    assignment_previews_discard(user=preview.created_by, keep=preview)
    return preview


def assignment_preview_failed(*, preview_id: int) -> None:
    AssignmentPreview.objects.filter(pk=preview_id).update(
        status=AssignmentPreview.Status.FAILED, finished_at=timezone.now()
    )


def assignment_previews_discard(*, user, keep: AssignmentPreview | None = None) -> int:
    """Delete `user`'s previews but `keep` (and one still being prepared), their moves first by plain DELETEs (a
    preview of a million accounts holds a million moves). Returns how many previews went."""
    old = AssignmentPreview.objects.filter(created_by=user).exclude(status=AssignmentPreview.Status.PREPARING)
    if keep is not None:
        old = old.exclude(pk=keep.pk)
    ids = list(old.values_list("pk", flat=True))
    if not ids:
        return 0
    PlannedMove.objects.filter(preview_id__in=ids)._raw_delete(PlannedMove.objects.db)
    AssignmentPreview.objects.filter(pk__in=ids).delete()
    return len(ids)


def assignment_preview_latest(*, user) -> AssignmentPreview | None:
    """`user`'s latest preview (ready, being prepared or failed), or None."""
    return AssignmentPreview.objects.filter(created_by=user).select_related("job").first()


class PlannedMoves:
    """A preview's moves for django's Paginator: its count is stored and a page is a range of positions, read by
    the (preview, position) index however deep the page."""

    def __init__(self, preview: AssignmentPreview):
        self.preview = preview

    def count(self) -> int:
        return self.preview.move_count

    def __len__(self) -> int:
        return self.preview.move_count

    def __getitem__(self, item: slice) -> list[PlannedMove]:
        if not isinstance(item, slice):
            raise TypeError("PlannedMoves are read a page (a slice) at a time.")
        start, stop = item.start or 0, self.preview.move_count if item.stop is None else item.stop
        return list(
            PlannedMove.objects.filter(preview=self.preview, position__gte=start, position__lt=stop).order_by(
                "position"
            )
        )
