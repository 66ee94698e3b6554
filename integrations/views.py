"""The integrations' index: what can be connected, for admins."""

from django.shortcuts import render

from core.decorators import admin_only

from .models import AlertChannel, CrmConnection, WebhookEndpoint


@admin_only
def index(request):
    context = {
        "webhooks": WebhookEndpoint.objects.count(),
        "webhooks_active": WebhookEndpoint.objects.filter(active=True).count(),
        "webhooks_disabled": WebhookEndpoint.objects.filter(active=False, disabled_at__isnull=False).count(),
        "crm_connections": CrmConnection.objects.count(),
        "channels": AlertChannel.objects.count(),
    }
    return render(request, "integrations/index.html", context)
