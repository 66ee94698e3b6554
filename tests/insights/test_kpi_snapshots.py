"""Daily KPI snapshots: one per KPI and scope, re-taking a day replaces it, and trends add up per scope."""

import datetime as dt

import pytest
from django.urls import reverse

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
