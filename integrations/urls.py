"""The integrations' pages, under /integrations/ (admins configure them)."""

from django.urls import path

from .crm import views as crm

app_name = "integrations"

urlpatterns: list = [
    path("crm/", crm.connection_list, name="crm-connections"),
    path("crm/new/", crm.connection_new, name="crm-connection-new"),
    path("crm/<int:connection_id>/", crm.connection_detail, name="crm-connection-detail"),
    path("crm/<int:connection_id>/edit/", crm.connection_edit, name="crm-connection-edit"),
    path("crm/<int:connection_id>/delete/", crm.connection_delete_view, name="crm-connection-delete"),
    path("crm/<int:connection_id>/sync/", crm.sync_now, name="crm-sync-now"),
    path("crm/<int:connection_id>/mapping/<str:obj>/", crm.mapping_edit, name="crm-mapping"),
    path("crm/<int:connection_id>/push/", crm.push_diff, name="crm-push-diff"),
]
