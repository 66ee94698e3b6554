from django.urls import path

from . import recalibration_views

urlpatterns = [
    path("recalibration/", recalibration_views.recalibration_index, name="recalibration"),
    path("recalibration/run/", recalibration_views.recalibration_start, name="recalibration-run"),
    path(
        "recalibration/ranking.csv",
        recalibration_views.recalibration_ranking_export,
        name="recalibration-ranking-export",
    ),
    path("recalibration/lift.csv", recalibration_views.recalibration_lift_export, name="recalibration-lift-export"),
    path(
        "recalibration/score-bands.csv",
        recalibration_views.recalibration_score_band_export,
        name="recalibration-score-band-export",
    ),
]
