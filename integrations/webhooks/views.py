"""The admins' webhook pages: endpoints (list, add, edit, delete, rotate the secret, send a test event) and the
delivery log (per endpoint and overall, filtered by status) with redelivery."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Account
from core.decorators import admin_only
from core.forms import form_add_errors

from ..models import WebhookDelivery, WebhookEndpoint
from .forms import DeliveryFilter, EndpointForm
from .selectors import delivery_log, endpoint_list
from .services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_delete,
    endpoint_redeliver_failed,
    endpoint_send_test,
    endpoint_update,
    secret_rotate,
)
from .signing import REPLAY_WINDOW_SECONDS

NEW_SECRET_KEY = "webhooks-new-secret"  # nosec B105  # the session key it waits under
LOG_PAGE_SIZE = 50
ENDPOINTS_PAGE_SIZE = 50


def _log_context(request, *, endpoint: WebhookEndpoint | None) -> dict:
    filters = DeliveryFilter(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    page = Paginator(delivery_log(endpoint=endpoint, status=status), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    # The accounts the page's events happened to, by name (an event keeps a plain id: its account may be gone).
    ids = {d.event.account_id for d in page.object_list if d.event.account_id}
    names = dict(Account.objects.filter(pk__in=ids).values_list("pk", "name"))
    for delivery in page.object_list:
        delivery.account_name = names.get(delivery.event.account_id)
    return {"filters": filters, "status": status, "page": page}


@admin_only
def webhook_list(request):
    page = Paginator(endpoint_list(), ENDPOINTS_PAGE_SIZE).get_page(request.GET.get("page"))
    disabled = [e for e in page.object_list if not e.active and e.disabled_at]
    context = {
        "page": page,
        "disabled": disabled,
        "disable_after": settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        "max_attempts": settings.WEBHOOK_MAX_ATTEMPTS,
    }
    return render(request, "integrations/webhooks/list.html", context)


@admin_only
@require_http_methods(["GET", "POST"])
def webhook_add(request):
    form = EndpointForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = endpoint_create(endpoint=form.save(commit=False), user=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            request.session[NEW_SECRET_KEY] = [endpoint.pk, endpoint.secret]
            messages.success(request, f"Added the endpoint “{endpoint.name}”: events are sent to it from now on.")
            return redirect("integrations:webhook-detail", endpoint_id=endpoint.pk)
    return render(request, "integrations/webhooks/form.html", {"form": form, "endpoint": None})


@admin_only
@require_http_methods(["GET", "POST"])
def webhook_edit(request, endpoint_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = endpoint_update(endpoint=form.save(commit=False))
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            state = "active" if endpoint.active else "switched off"
            messages.success(request, f"Saved the endpoint “{endpoint.name}” ({state}).")
            return redirect("integrations:webhook-detail", endpoint_id=endpoint.pk)
    return render(request, "integrations/webhooks/form.html", {"form": form, "endpoint": endpoint})


@admin_only
@require_http_methods(["GET", "POST"])
def webhook_delete(request, endpoint_id: int):
    """Ask first; a POST deletes the endpoint and its delivery log."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method == "POST":
        count = endpoint_delete(endpoint=endpoint)
        messages.success(
            request,
            f"Deleted the endpoint “{endpoint.name}” and its log of {count:,} deliver{'y' if count == 1 else 'ies'}.",
        )
        return redirect("integrations:webhook-list")
    context = {"endpoint": endpoint, "deliveries": endpoint.deliveries.count()}
    return render(request, "integrations/webhooks/confirm_delete.html", context)


@admin_only
@require_http_methods(["GET", "POST"])
def webhook_rotate(request, endpoint_id: int):
    """Ask first; a POST makes a new secret (shown once) and the old one stops working."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method == "POST":
        request.session[NEW_SECRET_KEY] = [endpoint.pk, secret_rotate(endpoint=endpoint)]
        messages.success(request, "Made a new secret: requests are signed with it from now on.")
        return redirect("integrations:webhook-detail", endpoint_id=endpoint.pk)
    return render(request, "integrations/webhooks/confirm_rotate.html", {"endpoint": endpoint})


@admin_only
@require_POST
def webhook_test(request, endpoint_id: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    result = endpoint_send_test(endpoint=endpoint)
    if result.ok:
        messages.success(
            request, f"Test event delivered: the endpoint answered {result.code} in {result.duration_ms:,} ms."
        )
    else:
        messages.error(request, f"The test event was not delivered. {result.error}")
    return redirect("integrations:webhook-detail", endpoint_id=endpoint.pk)


@admin_only
def webhook_detail(request, endpoint_id: int):
    """One endpoint: what it receives, its secret (whole only right after it is made) and its delivery log."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    new_secret = None
    pending = request.session.get(NEW_SECRET_KEY)
    if pending and pending[0] == endpoint.pk:
        new_secret = request.session.pop(NEW_SECRET_KEY)[1]
    context = {
        "endpoint": endpoint,
        "new_secret": new_secret,
        "failed": endpoint.deliveries.filter(status=WebhookDelivery.Status.FAILED).count(),
        "replay_minutes": REPLAY_WINDOW_SECONDS // 60,
        "disable_after": settings.WEBHOOK_DISABLE_AFTER_FAILURES,
        **_log_context(request, endpoint=endpoint),
    }
    return render(request, "integrations/webhooks/detail.html", context)


@admin_only
def delivery_list(request):
    """Every endpoint's deliveries, newest first."""
    return render(request, "integrations/webhooks/deliveries.html", _log_context(request, endpoint=None))


@admin_only
@require_POST
def delivery_redeliver_view(request, delivery_id: int):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint", "event"), pk=delivery_id)
    if delivery_redeliver(delivery=delivery):
        note = "" if delivery.endpoint.active else " once the endpoint is switched back on"
        messages.success(
            request,
            f"Event #{delivery.event_id} ({delivery.event.get_kind_display()}) will be sent to "
            f"“{delivery.endpoint.name}” again{note}, with the same idempotency key.",
        )
    else:
        messages.info(
            request, f"Event #{delivery.event_id} is already waiting to be sent to “{delivery.endpoint.name}”."
        )
    back = request.POST.get("next", "")
    if back.startswith("/integrations/") and "//" not in back:
        return redirect(back)
    return redirect("integrations:webhook-detail", endpoint_id=delivery.endpoint_id)


@admin_only
@require_http_methods(["GET", "POST"])
def webhook_redeliver_failed(request, endpoint_id: int):
    """Ask first (it can be many); a POST sends every failed delivery of the endpoint again."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    if request.method == "POST":
        count = endpoint_redeliver_failed(endpoint=endpoint)
        if count:
            messages.success(request, f"{count:,} failed deliver{'y' if count == 1 else 'ies'} will be sent again.")
        else:
            messages.info(request, "No failed delivery to send again.")
        return redirect("integrations:webhook-detail", endpoint_id=endpoint.pk)
    failed = endpoint.deliveries.filter(status=WebhookDelivery.Status.FAILED).count()
    return render(request, "integrations/webhooks/confirm_redeliver.html", {"endpoint": endpoint, "failed": failed})
