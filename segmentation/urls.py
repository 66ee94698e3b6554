from django.urls import path

from . import lookalike_views, shadow_views, views

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
    path("models/<int:model_id>/shadow/start/", shadow_views.model_shadow_start_view, name="model-shadow-start"),
    path("models/<int:model_id>/shadow/stop/", shadow_views.model_shadow_stop_view, name="model-shadow-stop"),
    path("plays/", views.play_index, name="play-list"),
    path("lookalikes/", lookalike_views.lookalikes, name="lookalikes"),
    path("lookalikes/run/", lookalike_views.lookalikes_run, name="lookalikes-run"),
    path("plays/<slug:tier>/edit/", views.play_edit, name="play-edit"),
]
