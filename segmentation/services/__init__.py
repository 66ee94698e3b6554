"""Writes about how good each account is, named <entity>_<action>:
- versions.py: ICPs and scoring model versions (create, edit a draft, publish, restore);
- rescore.py: full rescores as jobs in slices;
- incremental.py: the rescore and capacity queues drained (an account rescored soon after its data changed);
- qualify.py: after scores are stored, Tier 1 capacity per territory and the MQA rule;
- preview.py: what publishing a version would change;
- scopes.py: the scores' copy of their account's territory and owner repaired where it drifted;
- shadow.py: a draft run in shadow beside the active version (started, stopped, its first pass as a job).
"""

from .incremental import account_rescore, capacity_queued, capacity_refresh, rescore_pending
from .preview import latest_preview, preview_compute, preview_job_start
from .qualify import after_scoring, mqas_decide
from .rescore import (
    rescore_chunk_run,
    rescore_job_enqueue,
    rescore_job_resume,
    rescore_job_run_here,
    rescore_job_start,
)
from .scopes import score_scopes_repair
from .shadow import model_shadow_start, model_shadow_stop, shadow_job_start, shadow_model
from .versions import (
    COPIED_FIELDS,
    NotADraft,
    icp_create,
    icp_update,
    model_draft_create,
    model_draft_delete,
    model_draft_update,
    model_problems,
    model_publish,
    model_restore,
    previous_version,
)

__all__ = [
    "score_scopes_repair",
    "COPIED_FIELDS",
    "NotADraft",
    "icp_create",
    "icp_update",
    "model_draft_delete",
    "mqas_decide",
    "model_draft_update",
    "account_rescore",
    "after_scoring",
    "capacity_queued",
    "capacity_refresh",
    "latest_preview",
    "model_draft_create",
    "model_problems",
    "model_publish",
    "model_restore",
    "preview_compute",
    "preview_job_start",
    "previous_version",
    "rescore_chunk_run",
    "rescore_job_enqueue",
    "rescore_job_resume",
    "rescore_job_run_here",
    "rescore_job_start",
    "rescore_pending",
    "model_shadow_start",
    "model_shadow_stop",
    "shadow_job_start",
    "shadow_model",
]
