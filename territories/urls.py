from django.urls import path

from . import quota_views, views

urlpatterns = [
    path("", views.territory_index, name="territory-list"),
    path("<int:territory_id>/", views.territory_detail, name="territory-detail"),
    path("memberships/<int:membership_id>/edit/", views.membership_edit, name="membership-edit"),
    path("reassign/", views.reassign, name="account-reassign"),
    path("assignment/", views.assignment_preview, name="assignment-preview"),
    path("assignment/apply/", views.assignment_apply, name="assignment-apply"),
    path("quotas/", quota_views.quota_index, name="quota-list"),
    path("quotas/new/", quota_views.quota_edit, name="quota-new"),
    path("quotas/<int:quota_id>/edit/", quota_views.quota_edit, name="quota-edit"),
    path("quotas/<int:quota_id>/delete/", quota_views.quota_remove, name="quota-delete"),
]
