"""`manage.py recalibrate`: runs the recalibration as a job in its own process (the jobs page shows it), prints the
verdict, the held-out AUCs and the draft, and refuses bad options and non-admins with a message and a failing exit."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.urls import reverse

from core.models import Job
from insights.management.commands.recalibrate import Command
from segmentation.models import ScoringModel

from ..factories import UserFactory
from .recalibration_data import active_model, planted_deals


def run(*args) -> str:
    out = io.StringIO()
    call_command("recalibrate", *args, stdout=out)
    return out.getvalue()


def test_it_runs_a_job_and_prints_the_verdict_the_aucs_and_the_draft(world):
    active_model()
    planted_deals()
    out = run()

    job = Job.objects.get(kind=Job.Kind.RECALIBRATE)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.created_by == world.admin and job.title == "recalibration from closed deals"
    assert job.done == job.total
    report = job.result
    assert report["verdict"] == "proposal", report["message"]
    draft = ScoringModel.objects.get(status=ScoringModel.Status.DRAFT)
    assert report["proposal"]["model_id"] == draft.pk

    assert f"Job #{job.pk} (recalibration from closed deals), run as admin: /jobs/{job.pk}/" in out
    assert "Verdict: New points proposed" in out
    assert (
        f"Held-out AUC, logistic regression: {report['auc']:.3f} "
        f"(95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f})"
    ) in out
    points = f"{report['points_auc']:.3f}" if report.get("points_auc") is not None else "—"
    assert f"Held-out AUC, proposed points model: {points}" in out
    assert f"Draft: v{draft.version} at {reverse('model-detail', args=[draft.pk])}" in out
    print(f"\n{out}")


def test_the_options_reach_the_job(world):
    planted_deals(accounts=100)  # too few deals to fit: quick, and the parameters are what is checked
    out = run("--target-mix", " 10, 20,30 ,40", "--as-of-field", "closed", "--user", "admin")
    job = Job.objects.get(kind=Job.Kind.RECALIBRATE)
    assert job.params == {"target_mix": [10.0, 20.0, 30.0, 40.0], "as_of": "closed"}
    assert job.result["verdict"] == "too_little_data"
    # What the report lacks reads as a dash, and no draft is proposed.
    assert "Verdict: Too little data" in out and "at least 200 closed deals" in out
    assert "Held-out AUC, logistic regression: —" in out and "Held-out AUC, proposed points model: —" in out
    assert "Draft: none proposed." in out
    assert not ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).exists()


@pytest.mark.parametrize(
    ("mix", "message"),
    [
        ("10,20,30", "A tier mix is four shares in per cent, for Tier 1, Tier 2, Tier 3 and Recycle"),
        ("10,20,x,40", "Each share of the tier mix is a number of per cent"),
        ("10,20,30,50", "The shares of the tier mix add up to 110%, not 100%."),
        ("-10,50,30,30", "Each share of the tier mix is between 0 and 100 per cent."),
    ],
)
def test_a_bad_target_mix_is_refused_with_the_reason(world, mix, message):
    with pytest.raises(CommandError) as refused:
        run(f"--target-mix={mix}")
    assert message in str(refused.value) and repr(mix) in str(refused.value)  # says what was typed
    assert not Job.objects.exists()


def test_a_bad_option_fails_the_process(world, capsys, monkeypatch):
    """From the shell: the message on stderr and a non-zero exit code."""
    monkeypatch.setattr(connections, "close_all", lambda: None)  # as the shell ends, but the test's transaction stays
    for argv in (["--target-mix", "1,2"], ["--as-of-field", "yesterday"], ["--user", "north_rep"]):
        with pytest.raises(SystemExit) as exited:
            Command().run_from_argv(["manage.py", "recalibrate", *argv])
        assert exited.value.code not in (0, None), argv
    err = capsys.readouterr().err
    assert "A tier mix is four shares" in err
    assert "invalid choice: 'yesterday'" in err and "engaged" in err and "closed" in err
    assert "north_rep is not a RevOps admin" in err
    assert not Job.objects.exists()


def test_it_runs_only_as_an_admin(world):
    for username in ("north_rep", "manager"):
        with pytest.raises(CommandError, match=f"{username} is not a RevOps admin"):
            run("--user", username)
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        run("--user", "nobody")
    assert not Job.objects.exists()

    # Without --user: the first active superuser, else the first admin.
    run()
    assert Job.objects.get().created_by == world.admin
    boss = UserFactory(username="boss", is_superuser=True)
    run()
    assert Job.objects.latest("pk").created_by == boss


def test_without_any_admin_it_says_whom_to_name(db):
    UserFactory(username="just_a_rep", role="rep")
    with pytest.raises(CommandError, match="There is no active RevOps admin to run it as"):
        run()
