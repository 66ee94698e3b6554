"""KPI figures in words and as chart data, shared by the pages, the CSV exports and the API."""

from __future__ import annotations

import math

from accounts.criteria import money
from core.stats import p_value_text

from .kpis import COUNT, MIN_INTERVAL_N, PERCENT, RATIO, SCORE, USD, KpiResult, R, Row

DASH = "–"


def format_value(value, unit: str) -> str:
    if value is None:
        return DASH
    if unit == PERCENT:
        return f"{value:.1f}%"
    if unit == SCORE:
        return f"{value:.1f}"
    if unit == USD:
        return money(value)
    if unit == R:
        return f"{value:+.2f}"
    if unit == RATIO:
        return f"{value:.1f}×"
    if unit == COUNT:
        return f"{value:,.0f}"
    return str(value)


# The pages say "too few to say" instead of an interval below MIN_INTERVAL_N cases (and state the rule); the API and
# the CSV exports keep the numbers.
TOO_FEW = "too few to say"


def format_interval(interval, unit: str, n: int | None = None) -> str:
    """The 95% interval as "low to high"; "too few to say" when the sample `n` is below MIN_INTERVAL_N."""
    if n is not None and 0 < n < MIN_INTERVAL_N:
        return f"{TOO_FEW} (n < {MIN_INTERVAL_N})"
    if not interval:
        return ""
    low, high = interval
    return f"{format_value(low, unit)} to {format_value(high, unit)}"


def interval_words(row: Row, unit: str) -> str:
    """A row's interval as the pages show it: "too few to say" under MIN_INTERVAL_N cases."""
    if row.interval is None and not (0 < row.n < MIN_INTERVAL_N and row.value is not None):
        return ""
    return format_interval(row.interval, unit, row.n)


def too_few(row: Row) -> bool:
    return 0 < row.n < MIN_INTERVAL_N


def pipeline_words(row: Row) -> str:
    """The open pipeline behind a coverage figure, in words that never read "$0" for deals that have no amount."""
    deals = row.n
    unvalued = row.extra.get("unvalued") or 0
    if not deals:
        return "No open deal"
    counted = f"{deals:,} open deal{'s' if deals != 1 else ''}"
    if unvalued == deals:
        return f"{counted}, none with an amount yet"
    words = f"Open pipeline {format_value(row.extra.get('pipeline'), USD)} in {counted}"
    if unvalued:
        words += f" ({unvalued:,} without an amount)"
    return words


EXTRA_UNITS = {"quota": USD, "coverage": RATIO, "win_probability": PERCENT, "pipeline": USD}


def extra_cells(result: KpiResult, row: Row) -> list[str]:
    """A row's extra columns as text, in the result's column order."""
    cells = []
    for key, _ in result.columns:
        value = row.extra.get(key)
        if key == "pipeline" and row.n and row.extra.get("unvalued") == row.n:
            cells.append(DASH)  # no open deal has an amount: no pipeline figure, not "$0"
        elif key in EXTRA_UNITS:
            cells.append(format_value(value, EXTRA_UNITS[key]))
        elif isinstance(value, int | float):
            cells.append(format_value(value, COUNT))
        else:
            cells.append(value or DASH)
    return cells


def _number(value):
    return None if value is None else round(float(value), 6)


SMALLEST_P = math.ulp(0.0)  # the smallest positive float: what a p-value that underflowed to 0 is at most


def _p_value(value) -> float | None:
    """A p-value for the API: three significant digits, never rounded (or underflowed) to 0; a p below what a float
    holds reads as the smallest positive float (5e-324), which it is at most."""
    if value is None:
        return None
    return max(float(f"{float(value):.3g}"), SMALLEST_P)


def row_data(row: Row) -> dict:
    return {
        "key": row.key,
        "label": row.label,
        "n": row.n,
        "value": _number(row.value),
        "interval": None if row.interval is None else [_number(v) for v in row.interval],
        **{k: (_number(v) if isinstance(v, float) else v) for k, v in row.extra.items()},
    }


def result_data(result: KpiResult) -> dict:
    """A KPI result as plain JSON-ready data: what the API returns and the charts draw."""
    return {
        "kpi": result.kpi.key,
        "name": result.kpi.name,
        "unit": result.kpi.unit,
        "definition": result.kpi.definition,
        "period": {
            "start": result.period.start.isoformat() if result.period.start else None,
            "end": result.period.end.isoformat() if result.period.end else None,
        },
        "segment": result.segment,
        "total": row_data(result.total),
        "rows": [row_data(r) for r in result.rows],
        "test": None
        if result.test is None
        else {
            "name": result.test.name,
            "statistic": _number(result.test.statistic),
            "p_value": _p_value(result.test.p_value),
            "p_value_text": p_value_text(result.test.p_value),
            "significant": result.test.significant,
            "verdict": result.test.verdict,
        },
        "note": result.note,
    }


def bar_chart(result: KpiResult) -> dict | None:
    """A Chart.js bar chart of the rows' values (None without rows)."""
    rows = [r for r in result.rows if r.value is not None]
    if not rows:
        return None
    unit = result.kpi.unit
    options: dict = {"plugins": {"legend": {"display": False}}}
    if unit == PERCENT:
        options["percentAxis"] = "y"
        options["scales"] = {"y": {"min": 0, "max": 100}}
    if unit == R:
        options["scales"] = {"y": {"min": -1, "max": 1}}
    return {
        "type": "bar",
        "data": {
            "labels": [r.label for r in rows],
            "datasets": [{"label": result.kpi.name, "data": [_number(r.value) for r in rows]}],
        },
        "options": options,
    }


def csv_rows(result: KpiResult) -> tuple[list[str], list[list]]:
    """The header and rows of a KPI's CSV export: every row, then the total."""
    header = [
        result.segment or "segment",
        "n",
        result.kpi.unit,
        "ci_low",
        "ci_high",
        *[name for _, name in result.columns],
    ]
    rows = []
    for row in [*result.rows, result.total]:
        low, high = row.interval or (None, None)
        rows.append(
            [row.label, row.n, _number(row.value), _number(low), _number(high)]
            + [
                _number(row.extra.get(key)) if isinstance(row.extra.get(key), float) else row.extra.get(key)
                for key, _ in result.columns
            ]
        )
    return header, rows
