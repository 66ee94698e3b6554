"""The handoff list of managers and admins."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from core.tiers import LABELS as TIER_LABELS

from .models import Handoff
from .selectors import handoff_countdown

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
    accept_due_at = tables.Column(verbose_name="Due", order_by=("accept_due_at", "pk"), default="No deadline")
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
        # The badge opens the handoff's own page (its clock, decision, breach and who was told).
        return format_html(
            '<a href="{}" class="text-decoration-none handoff-detail-link" title="Details of this handoff">'
            '<span class="badge {} handoff-status">{}</span></a>',
            reverse("handoff-detail", args=[record.pk]),
            STATUS_STYLES.get(record.status, "text-bg-light"),
            STATUS_LABELS.get(record.status, record.status),
        )

    def render_reason(self, record):
        label = REASON_LABELS.get(record.reason, record.reason)
        if record.note:
            return format_html('{} <span class="text-muted small">({})</span>', label, record.note)
        return label

    def render_accept_due_at(self, record, value):
        """A pending handoff's countdown on its tier's clock; a decided one's due time."""
        countdown = handoff_countdown(record, getattr(self, "clocks", {}))
        if countdown is None:
            return f"{value:%Y-%m-%d %H:%M}" if value else "No deadline"
        return countdown_html(countdown, record.accept_due_at)

    def render_breached_at(self, record, value):
        by = format_html(" by {}", person(record.breached_by)) if record.breached_by_id else ""
        not_told = (record.breach_audience or {}).get("not_told") or []
        warning = (
            format_html(
                ' <span class="badge text-bg-warning breach-not-told">Not told (no e-mail address): {}</span>',
                ", ".join(not_told),
            )
            if not_told
            else ""
        )
        return format_html(
            '<span class="badge text-bg-danger">Breached</span> {}{}{}', f"{value:%Y-%m-%d %H:%M}", by, warning
        )


def countdown_html(countdown, due) -> str:
    """The countdown as the pages show it, ticking with static/js/handoffs.js (see handoffs/sla.py `Countdown`)."""
    return render_to_string("handoffs/_countdown.html", {"countdown": countdown, "due": due})
