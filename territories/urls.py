from django.urls import path

from . import carving_views, quota_views, scenario_views, unrouted_views, views

urlpatterns = [
    path("", views.territory_index, name="territory-list"),
    path("new/", carving_views.territory_edit, name="territory-new"),
    path("<int:territory_id>/", views.territory_detail, name="territory-detail"),
    path("<int:territory_id>/edit/", carving_views.territory_edit, name="territory-edit"),
    path("<int:territory_id>/members/new/", views.membership_new, name="membership-new"),
    path("accounts/search/", carving_views.territory_account_search, name="territory-account-search"),
    path("unrouted/", unrouted_views.unrouted_index, name="unrouted-accounts"),
    path("memberships/<int:membership_id>/edit/", views.membership_edit, name="membership-edit"),
    path("memberships/<int:membership_id>/departure/", views.membership_departure, name="membership-departure"),
    path("reassign/", views.reassign, name="account-reassign"),
    path("assignment/", views.assignment_preview, name="assignment-preview"),
    path("assignment/apply/", views.assignment_apply, name="assignment-apply"),
    path("quotas/", quota_views.quota_index, name="quota-list"),
    path("quotas/new/", quota_views.quota_edit, name="quota-new"),
    path("quotas/suggestions/", quota_views.quota_suggest, name="quota-suggestions"),
    path("quotas/<int:quota_id>/edit/", quota_views.quota_edit, name="quota-edit"),
    path("quotas/<int:quota_id>/delete/", quota_views.quota_remove, name="quota-delete"),
    path("scenarios/", scenario_views.scenario_index, name="scenario-list"),
    path("scenarios/<int:scenario_id>/", scenario_views.scenario_detail, name="scenario-detail"),
    path("scenarios/<int:scenario_id>/delete/", scenario_views.scenario_remove, name="scenario-delete"),
    path(
        "scenarios/<int:scenario_id>/territories/<int:territory_id>/rules/",
        scenario_views.scenario_territory_edit,
        name="scenario-territory-edit",
    ),
    path(
        "scenarios/<int:scenario_id>/territories/<int:territory_id>/members/new/",
        scenario_views.scenario_member_new,
        name="scenario-member-new",
    ),
    path(
        "scenarios/<int:scenario_id>/members/<int:member_id>/edit/",
        scenario_views.scenario_member_edit,
        name="scenario-member-edit",
    ),
    path(
        "scenarios/<int:scenario_id>/members/<int:member_id>/remove/",
        scenario_views.scenario_member_remove,
        name="scenario-member-remove",
    ),
    path("scenarios/<int:scenario_id>/run/", scenario_views.scenario_run, name="scenario-run"),
    path("scenarios/<int:scenario_id>/compare/", scenario_views.scenario_compare, name="scenario-compare"),
    path("scenarios/<int:scenario_id>/apply/", scenario_views.scenario_apply, name="scenario-apply"),
]
