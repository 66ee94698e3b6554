"""How KPI figures read on the pages: each unit its own way, and a dash where there is no figure."""

from django import template

from ..kpi_format import extra_cells, format_interval, format_value

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
