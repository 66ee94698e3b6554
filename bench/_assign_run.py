"""One assignment run in a process of its own, as a worker runs it (bench/assign.py starts it): prints a JSON line with
its time, its counts and the process's own peak RSS (VmHWM), before the run (Django loaded) and at the end.

    python bench/_assign_run.py apply|preview [--chunk N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _common import peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["apply", "preview"])
    parser.add_argument("--chunk", type=int, default=None)
    parser.add_argument("--user", default=None, help="the preview's user (username)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User

    from config.celery_app import app
    from territories.models import AssignmentPreview
    from territories.services import CHUNK, assignment_apply, assignment_preview_compute

    chunk = args.chunk or CHUNK
    app.loader.import_default_modules()  # what a worker has loaded before its first task (the task modules, checks)
    User.objects.count()  # connected, as a worker is
    before = peak_rss_mb()
    started = time.perf_counter()
    if args.what == "apply":
        plan, result = assignment_apply(user=None, chunk_size=chunk)
        figures = {"considered": plan.considered, "moved": result.moved, "unassigned": plan.unassigned}
    else:
        preview = AssignmentPreview.objects.create(created_by=User.objects.get(username=args.user))
        preview = assignment_preview_compute(preview=preview, chunk_size=chunk)
        figures = {"considered": preview.considered, "moved": preview.move_count, "preview": preview.pk}
    seconds = time.perf_counter() - started
    print(json.dumps({**figures, "seconds": seconds, "rss_before_mb": before, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
