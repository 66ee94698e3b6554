from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.apis import AccountBulkView, ContactBulkView, ContactViewSet, OpportunityViewSet, SignalViewSet
from core.apis import JobViewSet
from core.auth_apis import ApiTokenViewSet, TokenView
from handoffs.apis import HandoffViewSet, SlaPolicyViewSet
from insights.apis import KpiViewSet
from insights.backtest_apis import BacktestViewSet
from insights.recalibration_apis import RecalibrationViewSet
from insights.shadow_apis import ShadowComparisonView
from integrations.api_urls import urlpatterns as integration_urls
from segmentation.account_apis import AccountViewSet  # accounts' endpoint, with what scoring adds
from segmentation.apis import ICPViewSet, ScoringModelViewSet
from territories.apis import (
    AssignmentApplyView,
    AssignmentPreviewView,
    MembershipViewSet,
    ReassignView,
    TerritoryViewSet,
    UserViewSet,
)
from territories.quota_apis import QuotaSuggestionView
from territories.scenario_apis import ScenarioViewSet

# Namespaced ("api:account-detail") so API route names never clash with the web pages' names.
app_name = "api"

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("signals", SignalViewSet, basename="signal")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("territories", TerritoryViewSet, basename="territory")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("icps", ICPViewSet, basename="icp")
router.register("scoring-models", ScoringModelViewSet, basename="scoring-model")
router.register("handoffs", HandoffViewSet, basename="handoff")
router.register("kpis", KpiViewSet, basename="kpi")
router.register("backtests", BacktestViewSet, basename="backtest")
router.register("recalibrations", RecalibrationViewSet, basename="recalibration")
router.register("jobs", JobViewSet, basename="job")
router.register("users", UserViewSet, basename="user")
router.register("scenarios", ScenarioViewSet, basename="scenario")
router.register("auth/tokens", ApiTokenViewSet, basename="api-token")


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("accounts/bulk/", AccountBulkView.as_view(), name="account-bulk"),
    path("contacts/bulk/", ContactBulkView.as_view(), name="contact-bulk"),
    path("assignments/preview/", AssignmentPreviewView.as_view(), name="assignment-preview"),
    path("assignments/apply/", AssignmentApplyView.as_view(), name="assignment-apply"),
    path("assignments/reassign/", ReassignView.as_view(), name="assignment-reassign"),
    path("quota-suggestions/", QuotaSuggestionView.as_view(), name="quota-suggestions"),
    path("kpis/shadow/", ShadowComparisonView.as_view(), name="kpi-shadow"),  # before the KPIs' own routes
    *integration_urls,
    *router.urls,
]
