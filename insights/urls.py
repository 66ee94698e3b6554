from django.urls import path

from . import kpi_views

urlpatterns = [
    path("", kpi_views.kpi_dashboard, name="kpi-dashboard"),
    path("<slug:key>/", kpi_views.kpi_detail, name="kpi-detail"),
    path("<slug:key>/card/", kpi_views.kpi_card, name="kpi-card"),
    path("<slug:key>/export.csv", kpi_views.kpi_export, name="kpi-export"),
]
