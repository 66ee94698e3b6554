"""The integrations' pages, under /integrations/ (admins configure them; everyone sets their own chat alerts)."""

from django.urls import path

from .alerts import views as alerts

app_name = "integrations"

urlpatterns: list = [
    path("", alerts.integrations_index, name="index"),
    path("alerts/", alerts.channel_list, name="alert-channel-list"),
    path("alerts/add/", alerts.channel_add, name="alert-channel-add"),
    path("alerts/mine/", alerts.my_alerts, name="my-alerts"),
    path("alerts/<int:channel_id>/", alerts.channel_detail, name="alert-channel-detail"),
    path("alerts/<int:channel_id>/edit/", alerts.channel_edit, name="alert-channel-edit"),
    path("alerts/<int:channel_id>/delete/", alerts.channel_delete_view, name="alert-channel-delete"),
    path("alerts/<int:channel_id>/test/", alerts.channel_test, name="alert-channel-test"),
]
