from django.urls import path

from . import views as handoff_views

urlpatterns = [
    path("queue/", handoff_views.queue, name="handoff-queue"),
    path("queue/<int:handoff_id>/accept/", handoff_views.accept, name="handoff-accept"),
    path("queue/<int:handoff_id>/reject/", handoff_views.reject, name="handoff-reject"),
    path("handoffs/", handoff_views.handoff_index, name="handoff-list"),
    path("handoffs/export.csv", handoff_views.handoff_export, name="handoff-export"),
    path("handoffs/sla.csv", handoff_views.sla_export, name="handoff-sla-export"),
    path("handoffs/<int:handoff_id>/", handoff_views.handoff_detail, name="handoff-detail"),
    path("handoffs/<int:handoff_id>/reassign/", handoff_views.reassign, name="handoff-reassign"),
    path("handoffs/feedback/", handoff_views.feedback, name="handoff-feedback"),
    path("handoffs/feedback.csv", handoff_views.feedback_export, name="handoff-feedback-export"),
]
