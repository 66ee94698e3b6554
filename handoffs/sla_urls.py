from django.urls import path

from . import sla_views

urlpatterns = [
    path("sla-policies/", sla_views.sla_policy_index, name="sla-policy-list"),
    path("sla-policies/<slug:tier>/edit/", sla_views.sla_policy_edit, name="sla-policy-edit"),
]
