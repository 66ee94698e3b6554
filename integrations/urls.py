"""The integrations' pages, under /integrations/ (admins configure them; everyone sets their own chat alerts)."""

from django.urls import path

from . import views
from .alerts import views as alerts
from .crm import views as crm
from .webhooks import views as webhooks

app_name = "integrations"

urlpatterns = [
    path("", views.index, name="index"),
    path("crm/", crm.connection_list, name="crm-connections"),
    path("crm/new/", crm.connection_new, name="crm-connection-new"),
    path("crm/<int:connection_id>/", crm.connection_detail, name="crm-connection-detail"),
    path("crm/<int:connection_id>/edit/", crm.connection_edit, name="crm-connection-edit"),
    path("crm/<int:connection_id>/delete/", crm.connection_delete_view, name="crm-connection-delete"),
    path("crm/<int:connection_id>/sync/", crm.sync_now, name="crm-sync-now"),
    path("crm/<int:connection_id>/mapping/<str:obj>/", crm.mapping_edit, name="crm-mapping"),
    path("crm/<int:connection_id>/push/", crm.push_diff, name="crm-push-diff"),
    path("webhooks/", webhooks.webhook_list, name="webhook-list"),
    path("webhooks/add/", webhooks.webhook_add, name="webhook-add"),
    path("webhooks/deliveries/", webhooks.delivery_list, name="webhook-deliveries"),
    path(
        "webhooks/deliveries/<int:delivery_id>/redeliver/",
        webhooks.delivery_redeliver_view,
        name="webhook-delivery-redeliver",
    ),
    path("webhooks/<int:endpoint_id>/", webhooks.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:endpoint_id>/edit/", webhooks.webhook_edit, name="webhook-edit"),
    path("webhooks/<int:endpoint_id>/delete/", webhooks.webhook_delete, name="webhook-delete"),
    path("webhooks/<int:endpoint_id>/rotate-secret/", webhooks.webhook_rotate, name="webhook-rotate-secret"),
    path("webhooks/<int:endpoint_id>/test/", webhooks.webhook_test, name="webhook-test"),
    path(
        "webhooks/<int:endpoint_id>/redeliver-failed/",
        webhooks.webhook_redeliver_failed,
        name="webhook-redeliver-failed",
    ),
    path("alerts/", alerts.channel_list, name="alert-channel-list"),
    path("alerts/add/", alerts.channel_add, name="alert-channel-add"),
    path("alerts/mine/", alerts.my_alerts, name="my-alerts"),
    path("alerts/<int:channel_id>/", alerts.channel_detail, name="alert-channel-detail"),
    path("alerts/<int:channel_id>/edit/", alerts.channel_edit, name="alert-channel-edit"),
    path("alerts/<int:channel_id>/delete/", alerts.channel_delete_view, name="alert-channel-delete"),
    path("alerts/<int:channel_id>/test/", alerts.channel_test, name="alert-channel-test"),
]
