"""The handoff list of managers and admins."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from core.tiers import LABELS as TIER_LABELS

from .models import Handoff

STATUS_STYLES = {
    Handoff.Status.PENDING.value: "text-bg-warning",
    Handoff.Status.ACCEPTED.value: "text-bg-success",
    Handoff.Status.REJECTED.value: "text-bg-danger",
    Handoff.Status.EXPIRED.value: "text-bg-secondary",
}
STATUS_LABELS = dict(Handoff.Status.choices)
REASON_LABELS = dict(Handoff.Reason.choices)
WHEN = "Y-m-d H:i"


def person(user) -> str:
    return user.get_full_name() or user.username


def _owner_choices(table, record) -> dict:
    return {"owner_choices": getattr(table, "owner_choices", {}).get(record.territory_id, [])}


class HandoffTable(tables.Table):
    """Handoffs, soonest due first unless sorted; pending ones carry a reassign form."""

    account = tables.Column(
        accessor="account__name",
        verbose_name="Account",
        linkify=("account-detail", {"account_id": tables.A("account_id")}),
        order_by=("account__name", "pk"),
    )
    territory = tables.Column(
        accessor="territory__name", verbose_name="Territory", order_by=("territory__name", "pk"), default="—"
    )
    owner = tables.Column(order_by=("owner__username", "pk"), default="Unassigned")
    tier = tables.Column(order_by=("tier", "accept_due_at", "pk"))
    status = tables.Column(order_by=("status", "accept_due_at", "pk"))
    assigned_at = tables.DateTimeColumn(verbose_name="Assigned", format=WHEN, order_by=("assigned_at", "pk"))
    accept_due_at = tables.DateTimeColumn(verbose_name="Due", format=WHEN, order_by=("accept_due_at", "pk"))
    decided_at = tables.DateTimeColumn(verbose_name="Decided", format=WHEN, order_by=("decided_at", "pk"))
    reason = tables.Column(orderable=False, default="")
    breached_at = tables.Column(verbose_name="Breached", order_by=("breached_at", "pk"), default="No")
    reassign = tables.TemplateColumn(
        template_name="handoffs/_reassign.html",
        extra_context=_owner_choices,
        orderable=False,
        verbose_name="Reassign",
        empty_values=(),
    )

    class Meta:
        attrs = {"class": "table table-sm table-striped table-hover align-middle"}
        row_attrs = {"data-handoff-id": lambda record: record.pk, "data-status": lambda record: record.status}
        empty_text = "No handoffs match. Clear the filters; handoffs appear here when MQAs are routed."

    def render_owner(self, value):
        return person(value)

    def render_tier(self, value):
        return TIER_LABELS.get(value, value)

    def render_status(self, record):
        # `value` would be the display label (django-tables2 shows choices by label); the style keys on the code.
        return format_html(
            '<span class="badge {} handoff-status">{}</span>',
            STATUS_STYLES.get(record.status, "text-bg-light"),
            STATUS_LABELS.get(record.status, record.status),
        )

    def render_reason(self, record):
        label = REASON_LABELS.get(record.reason, record.reason)
        if record.note:
            return format_html('{} <span class="text-muted small">({})</span>', label, record.note)
        return label

    def render_breached_at(self, value):
        return format_html('<span class="badge text-bg-danger">Breached</span> {}', f"{value:%Y-%m-%d %H:%M}")
