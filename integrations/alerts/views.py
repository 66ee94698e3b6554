"""The chat alert pages: channels (admins) and each person's own chat alerts."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST

from core.decorators import admin_only, role_required

from ..models import Alert, AlertChannel
from .forms import AlertChannelForm, AlertPreferenceForm
from .services import channel_delete, channel_send_test, preference_for, preference_save

PAGE_SIZE = 25


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@admin_only
def channel_list(request):
    channels = (
        AlertChannel.objects.select_related("territory")
        .annotate(held=Count("alerts", filter=Q(alerts__status=Alert.Status.HELD)))
        .order_by("territory__name", "name", "pk")
    )
    return render(request, "integrations/alerts/channel_list.html", {"page": _page(request, channels)})


@admin_only
@require_http_methods(["GET", "POST"])
def channel_add(request):
    form = AlertChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel = form.save()
        messages.success(request, f"Added {channel.name}. Send a test message to check that it arrives.")
        return redirect("integrations:alert-channel-detail", channel_id=channel.pk)
    return render(request, "integrations/alerts/channel_form.html", {"form": form, "channel": None})


@admin_only
def channel_detail(request, channel_id: int):
    channel = get_object_or_404(AlertChannel.objects.select_related("territory"), pk=channel_id)
    alerts = channel.alerts.order_by("-created_at", "-pk")
    ago = ""
    if channel.last_sent_at:
        since = timezone.now() - channel.last_sent_at
        ago = "just now" if since < dt.timedelta(minutes=1) else f"{timesince(channel.last_sent_at)} ago"
    context = {
        "channel": channel,
        "last_sent_ago": ago,
        "page": _page(request, alerts),
        "held": channel.alerts.filter(status=Alert.Status.HELD).count(),
    }
    return render(request, "integrations/alerts/channel_detail.html", context)


@admin_only
@require_http_methods(["GET", "POST"])
def channel_edit(request, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id)
    form = AlertChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved {channel.name}.")
        return redirect("integrations:alert-channel-detail", channel_id=channel.pk)
    return render(request, "integrations/alerts/channel_form.html", {"form": form, "channel": channel})


@admin_only
@require_http_methods(["GET", "POST"])
def channel_delete_view(request, channel_id: int):
    channel = get_object_or_404(AlertChannel.objects.select_related("territory"), pk=channel_id)
    if request.method == "POST":
        channel_delete(channel=channel)
        messages.success(request, f"Deleted {channel.name}: it gets no more alerts.")
        return redirect("integrations:alert-channel-list")
    held = channel.alerts.filter(status=Alert.Status.HELD).count()
    return render(request, "integrations/alerts/channel_confirm_delete.html", {"channel": channel, "held": held})


@admin_only
@require_POST
def channel_test(request, channel_id: int):
    channel = get_object_or_404(AlertChannel, pk=channel_id)
    outcome = channel_send_test(channel=channel)
    if outcome.ok:
        messages.success(request, f"Test message sent to {channel.name}: look for it in the channel.")
    else:
        messages.error(request, f"The test message was not delivered. {outcome.error}")
    return redirect("integrations:alert-channel-detail", channel_id=channel.pk)


@role_required()
@require_http_methods(["GET", "POST"])
def my_alerts(request):
    """The signed-in person's own chat alerts: which kinds are posted about them, and their Slack member ID."""
    preference = preference_for(request.user)
    if request.method == "POST":
        form = AlertPreferenceForm(request.POST)
        if form.is_valid():
            preference_save(user=request.user, **form.cleaned_data)
            messages.success(request, "Saved your chat alerts.")
            return redirect("integrations:my-alerts")
    else:
        form = AlertPreferenceForm(
            initial={
                "mqa": preference.mqa,
                "breach": preference.breach,
                "surge": preference.surge,
                "slack_user_id": preference.slack_user_id,
            }
        )
    return render(request, "integrations/alerts/my_alerts.html", {"form": form})
