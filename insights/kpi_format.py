"""KPI figures in words and as chart data, shared by the pages, the CSV exports and the API."""

from __future__ import annotations

from .kpis import COUNT, PERCENT, RATIO, SCORE, USD, KpiResult, R, Row

DASH = "–"


def format_value(value, unit: str) -> str:
    if value is None:
        return DASH
    if unit == PERCENT:
        return f"{value:.1f}%"
    if unit == SCORE:
        return f"{value:.1f}"
    if unit == USD:
        return f"${value:,.0f}"
    if unit == R:
        return f"{value:+.2f}"
    if unit == RATIO:
        return f"{value:.2f}×"
    if unit == COUNT:
        return f"{value:,.0f}"
    return str(value)


def format_interval(interval, unit: str) -> str:
    if not interval:
        return ""
    low, high = interval
    return f"{format_value(low, unit)} to {format_value(high, unit)}"


EXTRA_UNITS = {"quota": USD, "coverage": RATIO, "win_probability": PERCENT}


def extra_cells(result: KpiResult, row: Row) -> list[str]:
    """A row's extra columns as text, in the result's column order."""
    cells = []
    for key, _ in result.columns:
        value = row.extra.get(key)
        if key in EXTRA_UNITS:
            cells.append(format_value(value, EXTRA_UNITS[key]))
        elif isinstance(value, int | float):
            cells.append(format_value(value, COUNT))
        else:
            cells.append(value or DASH)
    return cells


def _number(value):
    return None if value is None else round(float(value), 6)


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
            "p_value": _number(result.test.p_value),
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
