from django.urls import path

from . import recalibration_views, views

urlpatterns = [
    path("", views.scoring_index, name="scoring-index"),
    path("icps/new/", views.icp_edit, name="icp-new"),
    path("icps/<int:icp_id>/", views.icp_edit, name="icp-edit"),
    path("models/new/", views.model_new, name="model-new"),
    path("models/<int:model_id>/", views.model_detail, name="model-detail"),
    path("models/<int:model_id>/edit/", views.model_edit, name="model-edit"),
    path("models/<int:model_id>/preview/", views.model_preview, name="model-preview"),
    path("models/<int:model_id>/publish/", views.model_publish_confirm, name="model-publish"),
    path("models/<int:model_id>/restore/", views.model_restore_confirm, name="model-restore"),
    path("plays/", views.play_index, name="play-list"),
    path("plays/<slug:tier>/edit/", views.play_edit, name="play-edit"),
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
