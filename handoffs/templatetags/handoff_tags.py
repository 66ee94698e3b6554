"""What other apps' pages show of handoffs: the territory board's SLA compliance per member. The page
(territories) loads this library; territories itself knows nothing of handoffs."""

from __future__ import annotations

from django import template

from ..selectors import territory_member_sla

register = template.Library()


@register.inclusion_tag("handoffs/_territory_sla.html", takes_context=True)
def territory_sla(context, territory) -> dict:
    """SLA compliance of the territory's handoffs for each of its reps (those the viewer may see), a breach counting
    against the rep who held the handoff when it was breached. Three queries."""
    rows, total = territory_member_sla(user=context["request"].user, territory_id=territory.pk)
    return {"rows": rows, "total": total, "territory": territory}
