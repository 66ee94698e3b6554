"""How KPI figures read on the pages: each unit its own way, and a dash where there is no figure."""

from django import template

from ..kpi_format import extra_cells, format_interval, format_value, interval_words, pipeline_words, too_few

register = template.Library()


@register.filter
def kpi_value(value, unit: str) -> str:
    return format_value(value, unit)


@register.filter
def kpi_interval(interval, unit: str) -> str:
    return format_interval(interval, unit)


@register.filter
def kpi_extras(row, result) -> list[str]:
    return extra_cells(result, row)


@register.filter
def kpi_row_interval(row, unit: str) -> str:
    """A row's 95% interval, or "too few to say" when its sample is too small to read one."""
    return interval_words(row, unit)


@register.filter
def kpi_too_few(row) -> bool:
    return too_few(row)


@register.filter
def kpi_pipeline(row) -> str:
    return pipeline_words(row)
