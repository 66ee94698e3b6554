from django.urls import path

from . import carving_views, quota_views, unrouted_views, views

urlpatterns = [
    path("", views.territory_index, name="territory-list"),
    path("new/", carving_views.territory_edit, name="territory-new"),
    path("<int:territory_id>/", views.territory_detail, name="territory-detail"),
    path("<int:territory_id>/edit/", carving_views.territory_edit, name="territory-edit"),
    path("<int:territory_id>/members/new/", views.membership_new, name="membership-new"),
    path("accounts/search/", carving_views.territory_account_search, name="territory-account-search"),
    path("unrouted/", unrouted_views.unrouted_index, name="unrouted-accounts"),
    path("memberships/<int:membership_id>/edit/", views.membership_edit, name="membership-edit"),
    path("reassign/", views.reassign, name="account-reassign"),
    path("assignment/", views.assignment_preview, name="assignment-preview"),
    path("assignment/apply/", views.assignment_apply, name="assignment-apply"),
    path("quotas/", quota_views.quota_index, name="quota-list"),
    path("quotas/new/", quota_views.quota_edit, name="quota-new"),
    path("quotas/<int:quota_id>/edit/", quota_views.quota_edit, name="quota-edit"),
    path("quotas/<int:quota_id>/delete/", quota_views.quota_remove, name="quota-delete"),
]
