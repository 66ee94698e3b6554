"""The demo loaded from an empty database, as `make demo` does: complete when `load_demo` returns (scored, spend
potential, trends with points, handoffs in the rep's queue), with no worker running yet, and quiet unless verbose."""

import datetime as dt

import pytest
from celery import current_app
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from demo.loader import load_demo
from insights.models import AccountPotential, KpiSnapshot
from insights.snapshots import TREND_DAYS, kpi_trends
from segmentation.models import AccountScore


@pytest.mark.django_db(transaction=True)
def test_the_demo_is_complete_when_load_demo_returns(monkeypatch, client):
    """With PostgreSQL and Redis the worker starts after the load: tasks are then sent to the broker, and the demo
    would be served half-made. Here tasks are sent to a broker no worker reads; the load must leave nothing there."""
    sent = []
    monkeypatch.setitem(current_app.conf, "task_always_eager", False)
    monkeypatch.setattr(current_app, "send_task", lambda name, *args, **kwargs: sent.append(name))
    load_demo(password="a-demo-password", out=lambda *_: None, verbose=False)
    assert current_app.conf.task_always_eager is False  # put back as it was
    assert sent == []  # nothing left for a worker
    accounts = Account.objects.count()
    assert accounts == 85
    assert AccountScore.objects.filter(model__status="active").count() == accounts  # every account scored
    assert AccountPotential.objects.count() == accounts  # spend potential for each
    # A snapshot of today, and the past days of the trends' window back-filled from the demo's history.
    today = timezone.localdate()
    assert KpiSnapshot.objects.filter(on=today, kpi="engagement", scope="all").exists()
    assert KpiSnapshot.objects.filter(scope="all", kpi="engagement").count() == TREND_DAYS
    admin = User.objects.get(username="admin")
    trends = kpi_trends(user=admin)
    engagement = [value for _, value in trends["engagement"]]
    assert len(engagement) == TREND_DAYS and len(set(engagement)) > 10  # it moves with the signals, day by day
    assert engagement[-1] > engagement[0]  # the demo's accounts warm up: signals over the last months, surges now
    assert len(trends["tier_1_share"]) == TREND_DAYS
    assert trends["accounts"][0] == (today - dt.timedelta(days=TREND_DAYS - 1), 85)
    # Each manager's and rep's trends have points too (their territories', their own accounts').
    manager = User.objects.get(username="manager")
    assert len(kpi_trends(user=manager)["engagement"]) == TREND_DAYS
    rep = User.objects.get(username="rep")
    assert len(kpi_trends(user=rep)["engagement"]) == TREND_DAYS
    # The rep's queue has handoffs waiting, each owner was e-mailed at an address.
    assert rep.handoffs.filter(status="pending").exists()
    # The dashboard draws the trends over the whole window.
    client.force_login(admin)
    body = client.get(reverse("kpi-dashboard")).content.decode()
    assert 'data-chart="trend-engagement"' in body and f"{TREND_DAYS} days" in body


@pytest.mark.django_db(transaction=True)
def test_loading_again_changes_nothing_in_any_table():
    """Every table's row count, after a load and after a second one (SQLite and PostgreSQL: CI runs this there)."""
    from django.apps import apps

    def counts():
        return {model._meta.db_table: model.objects.count() for model in apps.get_models()}

    load_demo(password="a-demo-password", out=lambda *_: None, verbose=False)
    first = counts()
    load_demo(password="a-demo-password", out=lambda *_: None, verbose=False)
    assert counts() == first


def test_load_demo_command_prints_the_logins_and_nothing_else(db, capsys, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "printed-password")
    call_command("load_demo")
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines() == [
        "Demo logins: admin (admin), manager (manager), rep (rep); password: printed-password"
    ]
    assert "INFO" not in captured.err and "celery" not in captured.err


def test_load_demo_command_tells_what_it_did_when_verbose(db, capsys):
    call_command("load_demo", verbosity=2)
    out = capsys.readouterr().out
    assert "sales_pipeline.csv: 7375 created" in out
    assert "Contacts: 335 created." in out or "Contacts:" in out
    assert "past days back-filled" in out
    assert "Demo logins: admin (admin), manager (manager), rep (rep)" in out


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
