from django.urls import path

from . import shadow_views

# Included before the KPI pages' URLs: "shadow" is no KPI key.
urlpatterns = [
    path("shadow/", shadow_views.shadow_compare, name="kpi-shadow"),
    path("shadow/promote/", shadow_views.shadow_promote, name="kpi-shadow-promote"),
]
