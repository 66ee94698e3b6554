"""The real CRM export, loaded through the importer, gives exactly what the files hold."""

import csv

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import HttpRequest

from accounts.models import Account, Contact, Opportunity, Signal
from core.models import Job
from demo.loader import DATASET, load_demo
from territories.models import Membership, Territory


def blank_account_lines() -> list[int]:
    """Computed independently from the CSV: the line numbers of deals with no account."""
    with (DATASET / "sales_pipeline.csv").open(newline="") as f:
        return [i + 2 for i, row in enumerate(csv.DictReader(f)) if not row["account"].strip()]


def state() -> dict:
    return {
        "accounts": sorted(
            Account.objects.values_list(
                "external_id",
                "name",
                "industry",
                "annual_revenue",
                "parent_id",
                "owner_id",
                "territory_id",
                "updated_at",
            )
        ),
        "opportunities": sorted(
            Opportunity.objects.values_list(
                "external_id", "stage", "amount", "is_won", "closed_on", "owner_id", "updated_at"
            )
        ),
        "contacts": sorted(Contact.objects.values_list("external_id", "email", "persona", "updated_at")),
        "signals": sorted(Signal.objects.values_list("external_id", "kind", "occurred_at")),
        "users": sorted(User.objects.values_list("username", "first_name", "last_name")),
        "memberships": sorted(Membership.objects.values_list("user__username", "territory__name", "role", "is_active")),
    }


@pytest.fixture
def demo(db):
    return load_demo(password="a-demo-password", out=lambda *_: None)


def test_real_dataset_counts(demo):
    reps = User.objects.filter(groups__name="rep", memberships__role="rep").exclude(username="rep").distinct()
    managers = User.objects.filter(groups__name="manager").exclude(username="manager")
    assert Account.objects.count() == 85
    assert reps.count() == 35
    assert managers.count() == 6
    assert Territory.objects.count() == 3
    assert set(Territory.objects.values_list("name", flat=True)) == {"Central", "East", "West"}
    assert Opportunity.objects.count() == 7375
    assert Account.objects.filter(parent__isnull=False).count() == 15
    # Every agent is a rep in exactly one regional territory, managed by their manager.
    assert Membership.objects.filter(role="rep", user__in=reps).count() == 35
    dustin = User.objects.get(username="dustin.brinkmann")
    assert set(Membership.objects.filter(user=dustin).values_list("territory__name", "role")) == {
        ("Central", "manager")
    }


def test_rows_without_an_account_are_reported_by_line(demo):
    job = Job.objects.filter(title__startswith="opportunities from sales_pipeline.csv").get()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["summary"] == {
        "kind": "opportunities",
        "dry_run": False,
        "rows": 8800,
        "created": 7375,
        "updated": 0,
        "unchanged": 0,
        "failed": 1425,
    }
    lines = [line for line, _ in job.result["errors"]]
    assert lines == blank_account_lines()
    assert len(lines) == 1425
    assert {reason for _, reason in job.result["errors"]} == {"account is required but empty"}


def test_real_values_are_kept_as_they_are(demo):
    acme = Account.objects.get(external_id="Acme Corporation")
    assert acme.industry == "technolgy"  # misspelt in the source; kept, not hidden
    assert str(acme.annual_revenue) == "1100040000.00"  # revenue is in millions in the file
    assert acme.employee_count == 2822 and acme.year_founded == 1996 and acme.country == "United States"
    assert Opportunity.objects.filter(product="GTXPro").exists()
    won = Opportunity.objects.get(external_id="1C1I7A6R")
    assert (won.is_closed, won.is_won, str(won.amount), won.owner.get_full_name()) == (
        True,
        True,
        "1054.00",
        "Moses Frase",
    )


def test_reloading_the_demo_changes_nothing(demo):
    before = state()
    load_demo(password="a-demo-password", out=lambda *_: None)
    assert state() == before
    last = Job.objects.filter(kind="import").order_by("-pk")[:3]
    for job in last:
        assert job.result["summary"]["created"] == 0
        assert job.result["summary"]["updated"] == 0


def test_generated_contacts_and_signals_are_deterministic(demo):
    contacts = sorted(Contact.objects.values_list("external_id", "name", "email", "title", "persona"))
    signals = sorted(Signal.objects.values_list("external_id", "kind", "topic", "occurred_at", "contact__external_id"))
    assert set(Contact.objects.values_list("persona", flat=True)) >= {
        "economic_buyer",
        "champion",
        "technical_evaluator",
    }
    Contact.objects.all().delete()
    Signal.objects.all().delete()
    load_demo(password="a-demo-password", out=lambda *_: None)
    assert sorted(Contact.objects.values_list("external_id", "name", "email", "title", "persona")) == contacts
    assert (
        sorted(Signal.objects.values_list("external_id", "kind", "topic", "occurred_at", "contact__external_id"))
        == signals
    )


def test_demo_logins_work_and_see_their_scope(demo, client):
    # The login rate limiter (axes) needs a request to know who is trying.
    assert client.login(request=HttpRequest(), username="rep", password="a-demo-password")
    rep = User.objects.get(username="rep")
    assert Membership.objects.filter(user=rep, territory__name="Central", role="rep").exists()
    assert client.login(request=HttpRequest(), username="manager", password="a-demo-password")
    assert client.login(request=HttpRequest(), username="admin", password="a-demo-password")


def test_load_demo_command_prints_the_logins(db, capsys, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "printed-password")
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "Demo logins: admin (admin), manager (manager), rep (rep); password: printed-password" in out
    assert "sales_pipeline.csv: 7375 created" in out


def test_an_assignment_run_on_the_demo_keeps_every_account_in_place(demo):
    from territories.services import assignment_plan_all

    plan = assignment_plan_all()
    assert plan.considered == 85
    assert plan.moves == []
    assert plan.unassigned == Account.objects.filter(owner__isnull=True).count()


def test_demo_accounts_are_spread_over_each_regions_reps(demo):
    from django.db.models import Count

    for territory in Territory.objects.all():
        reps = Membership.objects.filter(territory=territory, role="rep", is_active=True).values_list(
            "user_id", flat=True
        )
        owned = dict(
            Account.objects.filter(territory=territory)
            .values("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        )
        counts = [owned.get(rep, 0) for rep in reps]
        assert sum(counts) == Account.objects.filter(territory=territory).count()
        assert max(counts) - min(counts) <= 1, (territory.name, counts)
    assert Account.objects.filter(owner__username="rep").exists()  # the demo rep has accounts to open
    assert Account.objects.filter(territory__isnull=True).count() == 0


def test_the_demo_publishes_a_model_that_scores_every_account(db, django_capture_on_commit_callbacks):
    from segmentation.models import MQA, AccountScore, ScoringModel

    with django_capture_on_commit_callbacks(execute=True):
        load_demo(password="a-demo-password", out=lambda *_: None)
    active = ScoringModel.objects.get(status="active")
    assert AccountScore.objects.filter(model=active).count() == Account.objects.count() == 85
    tiers = set(AccountScore.objects.values_list("tier", flat=True))
    assert {"tier_1", "tier_2", "tier_3"} <= tiers, tiers  # the demo shows every tier
    scores = {s.account.name: s for s in AccountScore.objects.select_related("account")}
    # Acme Corporation: technolgy (+30), 2,822 employees (+30), $1,100M revenue (+20), United States (+20): fit 100.
    assert scores["Acme Corporation"].fit == 100.0
    # A few accounts got a burst of signals in the last days: they surge, one tier above their candidate or held
    # by the guardrail; accounts entering Tier 1 or 2 with signal >= 30 are MQAs, each once.
    surging = [s for s in scores.values() if "surge" in s.flags]
    assert len(surging) >= 3 and all(s.surge_until > s.as_of for s in surging)
    # The demo rep's own accounts are among them: their queue has a handoff to accept or reject.
    from handoffs.models import Handoff

    assert Handoff.objects.filter(owner__username="rep", status="pending").exists()
    mqas = MQA.objects.filter(status="open")
    assert mqas.exists() and mqas.count() == len(set(mqas.values_list("account_id", flat=True)))
    assert all(m.tier in ("tier_1", "tier_2") and m.signal >= active.mqa_signal_min for m in mqas)
    with django_capture_on_commit_callbacks(execute=True):
        load_demo(password="a-demo-password", out=lambda *_: None)
    assert ScoringModel.objects.count() == 1  # loading again publishes nothing new
