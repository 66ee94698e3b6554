"""Daily KPI snapshots: one per KPI and scope, re-taking a day replaces it, and trends add up per scope."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Opportunity
from core.models import Job
from insights.models import KpiSnapshot
from insights.snapshots import kpi_snapshot_take, kpi_trends
from insights.tasks import kpi_snapshot_task

from .test_kpis import figures  # noqa: F401  (the fixture)

TODAY = dt.date(2026, 11, 20)


def latest(trends, key):
    return trends[key][-1][1]


def test_snapshot_per_scope_and_idempotent(figures):  # noqa: F811
    w = figures
    written = kpi_snapshot_take(on=TODAY)
    assert written == KpiSnapshot.objects.filter(on=TODAY).count()
    assert kpi_snapshot_take(on=TODAY) == written
    assert KpiSnapshot.objects.filter(on=TODAY).count() == written
    everyone = KpiSnapshot.objects.get(on=TODAY, kpi="engagement", scope="all")
    assert (everyone.numerator, everyone.denominator) == (60 + 20 + 90 + 10, 4)
    north = KpiSnapshot.objects.get(on=TODAY, kpi="engagement", scope="territory", scope_id=w.north.pk)
    assert (north.numerator, north.denominator) == (80, 2)


def test_trends_follow_each_users_scope(figures):  # noqa: F811
    w = figures
    kpi_snapshot_take(on=TODAY - dt.timedelta(days=1))
    kpi_snapshot_take(on=TODAY)
    admin = kpi_trends(user=w.admin, today=TODAY)
    assert [on for on, _ in admin["engagement"]] == [TODAY - dt.timedelta(days=1), TODAY]
    assert latest(admin, "engagement") == pytest.approx(45)
    # The manager's North and North-East add up exactly: (60 + 20 + 90) / 3.
    assert latest(kpi_trends(user=w.manager, today=TODAY), "engagement") == pytest.approx(170 / 3)
    assert latest(kpi_trends(user=w.rep, today=TODAY), "engagement") == pytest.approx(60)
    assert latest(kpi_trends(user=w.rep, today=TODAY), "icp_match") == pytest.approx(100)
    assert kpi_trends(user=w.other_manager, today=TODAY)["win_rate_90d"] == []  # no deal closed in 90 days
    assert kpi_trends(user=w.outsider, today=TODAY)["engagement"] == []
    # Days outside the window are left out.
    assert kpi_trends(user=w.admin, days=1, today=TODAY)["engagement"] == [(TODAY, pytest.approx(45))]


def test_snapshot_task_records_a_job(figures):  # noqa: F811
    kpi_snapshot_task.delay()
    job = Job.objects.get(kind=Job.Kind.SNAPSHOT)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["snapshots"] == KpiSnapshot.objects.count() > 0


def test_dashboard_charts_trends_once_there_are_snapshots(client, figures):  # noqa: F811
    client.force_login(figures.admin)
    assert "No snapshot yet" in client.get(reverse("kpi-dashboard")).content.decode()
    kpi_snapshot_take()
    body = client.get(reverse("kpi-dashboard")).content.decode()
    assert 'data-chart="trend-engagement"' in body and "No snapshot yet" not in body


def test_a_past_day_reads_deals_as_they_stood_then(figures):  # noqa: F811
    """The open pipeline of a past day: the deals engaged by then and not closed by then, whatever they are now."""
    from ..factories import OpportunityFactory

    w = figures
    OpportunityFactory(
        account=w.north_account, stage="Won", is_closed=True, is_won=True, amount=400,
        engaged_on=dt.date(2026, 10, 1), closed_on=dt.date(2026, 11, 10),
    )  # fmt: skip
    OpportunityFactory(
        account=w.north_account,
        stage="Engaging",
        is_closed=False,
        is_won=False,
        amount=900,
        engaged_on=dt.date(2026, 11, 15),
    )
    kpi_snapshot_take(on=dt.date(2026, 11, 1))
    then = KpiSnapshot.objects.get(on=dt.date(2026, 11, 1), kpi="pipeline", scope="all")
    assert (then.numerator, then.denominator) == (400, 1)  # open then, won since; the later deal not engaged yet
    north = KpiSnapshot.objects.get(on=dt.date(2026, 11, 1), kpi="pipeline", scope="territory", scope_id=w.north.pk)
    assert north.numerator == 400


def test_a_past_day_takes_the_scores_it_is_given(figures):  # noqa: F811
    """A back-filled day reads each account's score as it was then, not the stored (today's) scores."""
    from insights.snapshots import ScoreThen

    w = figures
    then = {
        w.owned_by_rep.pk: ScoreThen(fit=80, signal=10, tier="tier_3"),
        w.north_account.pk: ScoreThen(fit=40, signal=30, tier="tier_1"),
    }
    day = TODAY - dt.timedelta(days=10)
    kpi_snapshot_take(on=day, scores=then)
    snap = {(s.kpi, s.scope, s.scope_id): (s.numerator, s.denominator) for s in KpiSnapshot.objects.filter(on=day)}
    assert snap[("engagement", "all", 0)] == (40, 2)
    assert snap[("tier_1_share", "all", 0)] == (1, 2)
    assert snap[("icp_match", "all", 0)] == (1, 2)  # fit 80 >= 50 and not suppressed; fit 40 is not
    assert snap[("accounts", "territory", w.north.pk)] == (2, 2)
    assert snap[("engagement", "owner", w.rep.pk)] == (10, 1)
    trends = kpi_trends(user=w.admin, today=TODAY)
    assert trends["engagement"] == [(day, pytest.approx(20))]


def test_a_trend_with_nothing_measured_is_not_charted(client, figures):  # noqa: F811
    """No deal closed in the last 90 days: the win-rate trend has no figure on any day, so no empty chart."""
    client.force_login(figures.admin)
    Opportunity.objects.filter(is_closed=True).delete()
    Opportunity.objects.filter(is_closed=False).update(amount=None)
    kpi_snapshot_take()
    body = client.get(reverse("kpi-dashboard")).content.decode()
    assert 'data-chart="trend-engagement"' in body
    assert "trend-win_rate_90d" not in body
    assert "trend-pipeline" not in body  # open deals without an amount: no pipeline figure, not "$0"
