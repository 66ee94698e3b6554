"""The KPIs on the real CRM export equal what the CSV files say, computed here without the product's code."""

import csv
from collections import Counter

import pytest
from django.contrib.auth.models import User

from demo.loader import DATASET, load_demo
from insights.kpis import kpi_compute


def read(name: str) -> list[dict]:
    with (DATASET / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def expected_win_rates() -> tuple[Counter, Counter]:
    """Won and closed deals overall, by sector and by the agent's regional office, straight from the CSV."""
    sector = {row["account"]: row["sector"] for row in read("accounts.csv")}
    region = {row["sales_agent"]: row["regional_office"] for row in read("sales_teams.csv")}
    won, closed = Counter(), Counter()
    for deal in read("sales_pipeline.csv"):
        if deal["deal_stage"] not in ("Won", "Lost"):
            continue
        for key in ("all", ("industry", sector[deal["account"]]), ("territory", region[deal["sales_agent"]])):
            closed[key] += 1
            won[key] += deal["deal_stage"] == "Won"
    return won, closed


@pytest.fixture
def admin(db):
    load_demo(password="a-demo-password", out=lambda *_: None)
    return User.objects.get(username="admin")


def test_win_rate_overall_by_sector_and_region_equal_the_csv(admin):
    won, closed = expected_win_rates()
    assert closed["all"] == 6711
    total = kpi_compute(key="win_rate", user=admin).total
    assert (total.extra["successes"], total.n) == (won["all"], closed["all"])
    assert round(total.value, 2) == 63.15

    for segment in ("industry", "territory"):
        result = kpi_compute(key="win_rate", user=admin, segment=segment)
        got = {row.label: (row.extra["successes"], row.n) for row in result.rows}
        want = {key[1]: (won[key], closed[key]) for key in closed if key != "all" and key[0] == segment}
        assert got == want
        for row in result.rows:
            assert row.value == pytest.approx(100 * won[(segment, row.label)] / closed[(segment, row.label)])
            low, high = row.interval
            assert low < row.value < high
        # The export's sectors win at much the same rate: the page must say so rather than rank them.
        assert result.test.significant is False, result.test.verdict
        assert "not significant" in result.test.verdict
