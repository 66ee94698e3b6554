"""Every page and API endpoint, asked by every kind of user, answers as the role matrix says.

The routes are read from the URL configuration: a new page or endpoint without an entry here fails
`test_every_route_has_an_entry`, so nobody can add one without deciding who may use it.
Objects used for detail routes belong to the North territory (managed by `manager`, where `north_rep`
is a rep); `other_manager` and `other_rep` work the South and must get 404, `outsider` has no role.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from core.jobs import job_create
from core.models import SsoGroupRole
from core.tokens import token_create

from .factories import (
    ContactFactory,
    MQAFactory,
    OpportunityFactory,
    ScoringModelFactory,
    SignalFactory,
    SlaPolicyFactory,
)

USERS = ["anonymous", "outsider", "north_rep", "other_rep", "manager", "other_manager", "admin"]
ROLES = USERS[2:]


def by_user(default: int, **overrides: int) -> dict[str, int]:
    return {user: overrides.get(user, default) for user in USERS}


def web(role_status: dict[str, int] | None = None, **overrides) -> dict[str, int]:
    """A page: anonymous -> login, outsider -> the no-role page."""
    base = by_user(200, anonymous=302, outsider=403)
    base.update(role_status or {})
    base.update(overrides)
    return base


def api(**overrides) -> dict[str, int]:
    """An endpoint: anonymous -> 401, outsider -> 403."""
    return {**by_user(200, anonymous=401, outsider=403), **overrides}


NORTH_SCOPE = {"other_rep": 404, "other_manager": 404}  # objects of North are invisible to the South
REPS_REFUSED = {"north_rep": 403, "other_rep": 403}
ADMIN_ONLY = {"north_rep": 403, "other_rep": 403, "manager": 403, "other_manager": 403}
MANAGER_JOB = {"north_rep": 404, "other_rep": 404, "other_manager": 404}
REPS_ONLY = {"manager": 403, "other_manager": 403, "admin": 403}
SCENARIO_SCOPE = {**REPS_REFUSED, "other_manager": 404}  # North's scenario: reps refused, the South's manager blind
NOT_MINE = {"other_rep": 404, "manager": 404, "other_manager": 404, "admin": 404}  # north_rep's own object

# name -> (kwargs builder, GET expectations, optional (POST body, POST expectations))
MATRIX = {
    "home": (None, web()),
    "login": (None, by_user(302, anonymous=200)),
    "logout": (None, by_user(405)),
    "favicon": (None, by_user(302)),  # to the icon, for everyone
    "job-list": (None, web()),
    "job-detail": ("job", web(MANAGER_JOB)),
    "job-errors": ("job", web(MANAGER_JOB)),
    "audit-trail": (None, web(ADMIN_ONLY)),
    "sso-groups": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),  # an empty form: shown again with its errors
    "sso-group-delete": ("sso_mapping", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    # A user's own API tokens: an empty form is shown again with its errors; another user's token is not there.
    "api-tokens": (None, web(), ({}, web())),
    "api-token-revoke": ("api_token", web(NOT_MINE), ({}, web(NOT_MINE, north_rep=302))),  # revoked, back to the list
    # Integrations: admins only. Empty forms are shown again with their errors; actions are POSTs (GET: 405).
    "integrations:index": (None, web(ADMIN_ONLY)),
    "integrations:webhook-list": (None, web(ADMIN_ONLY)),
    "integrations:webhook-add": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:webhook-deliveries": (None, web(ADMIN_ONLY)),
    "integrations:webhook-delivery-redeliver": (
        "webhook_delivery",
        web(ADMIN_ONLY, admin=405),
        ({}, web(ADMIN_ONLY, admin=302)),
    ),
    "integrations:webhook-detail": ("webhook", web(ADMIN_ONLY)),
    "integrations:webhook-edit": ("webhook", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:webhook-delete": ("webhook", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "integrations:webhook-rotate-secret": ("webhook", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "integrations:webhook-test": ("webhook", web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY, admin=302))),
    "integrations:webhook-redeliver-failed": ("webhook", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    # Single sign-on is not configured here (tests/core/test_sso.py configures it).
    "oidc_authentication_init": (None, by_user(404)),
    "oidc_authentication_callback": (None, by_user(404)),
    # Chat alert channels (admins): an empty form is shown again with its errors; the test message is a POST (the
    # matrix's channel points at a reserved address: refused without a connection, back to the page).
    "integrations:alert-channel-list": (None, web(ADMIN_ONLY)),
    "integrations:alert-channel-add": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:alert-channel-detail": ("alert_channel", web(ADMIN_ONLY)),
    "integrations:alert-channel-edit": ("alert_channel", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:alert-channel-delete": ("alert_channel", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "integrations:alert-channel-test": ("alert_channel", web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY, admin=302))),
    # Everyone's own chat alerts (no one else's: the page has no user in its address); an empty form opts out of all.
    "integrations:my-alerts": (
        None,
        web(),
        ({}, web(north_rep=302, other_rep=302, manager=302, other_manager=302, admin=302)),
    ),
    "account-list": (None, web()),
    "account-export": (None, web()),
    "account-detail": ("account", web(NORTH_SCOPE)),
    "account-opportunities": ("account", web(NORTH_SCOPE)),
    # Recomputing every account's topic surges: admins only (the job page follows it); GET is not an action.
    "topic-refresh": (None, by_user(405), ({}, web(ADMIN_ONLY, admin=302))),
    "tier-list": (None, web()),
    "tier-export": (None, web()),
    "tier-movement": (None, web(REPS_REFUSED)),
    "tier-moves": (None, web(REPS_REFUSED)),
    "tier-moves-export": (None, web(REPS_REFUSED)),
    "handoff-queue": (None, web(REPS_ONLY)),
    "handoff-accept": ("handoff_page", by_user(405), ({}, web(REPS_ONLY, north_rep=302, other_rep=404))),
    "handoff-reject": ("handoff_page", by_user(405), ({}, web(REPS_ONLY, north_rep=400, other_rep=404))),  # no reason
    "handoff-list": (None, web(REPS_REFUSED)),
    "handoff-export": (None, web(REPS_REFUSED)),
    "handoff-sla-export": (None, web(REPS_REFUSED)),
    "handoff-reassign": (
        "handoff_page",
        by_user(405),
        ({}, web(REPS_REFUSED, manager=302, other_manager=404, admin=302)),  # no owner given: back with the message
    ),
    "handoff-feedback": (None, web(ADMIN_ONLY)),
    "handoff-detail": ("handoff_page", web(NORTH_SCOPE)),  # its owner, the territory's managers, admins
    "handoff-feedback-export": (None, web(ADMIN_ONLY)),
    # Duplicate accounts (admins): a search started as a job (back to the page); the pair merged after a confirmation
    # (the admin's POST merges it and goes to the survivor's page).
    "account-duplicates": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "account-duplicate-merge": ("duplicate_pair", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "import-new": (None, web(ADMIN_ONLY)),
    "import-map": (None, web(ADMIN_ONLY, admin=302)),  # nothing uploaded yet: back to the upload page
    "import-rejects": ("job", web(ADMIN_ONLY, admin=404)),  # the matrix's job is no import: not found
    "territory-list": (None, web(REPS_REFUSED)),
    "territory-detail": ("territory", web({**REPS_REFUSED, "other_manager": 404})),
    "membership-edit": ("membership", web({**REPS_REFUSED, "other_manager": 404})),
    "membership-departure": (  # the matrix's member is active and here: nothing to hand over (shown, refused)
        "membership",
        web({**REPS_REFUSED, "other_manager": 404}),
        ({}, web({**REPS_REFUSED, "other_manager": 404}, manager=302, admin=302)),
    ),
    "membership-new": (
        "territory",
        web({**REPS_REFUSED, "other_manager": 404}),
        ({}, web({**REPS_REFUSED, "other_manager": 404})),  # an empty form: shown again with its errors
    ),
    "territory-new": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),  # an empty form: shown again with its errors
    "territory-edit": ("territory", web(ADMIN_ONLY)),
    "territory-account-search": (None, web(ADMIN_ONLY)),
    "unrouted-accounts": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),  # nothing selected: shown with the reason
    "account-reassign": (None, by_user(405)),
    # The latest preview (none yet: the page says so); POST prepares one as a job and comes back to the page.
    "assignment-preview": (None, web(REPS_REFUSED), ({}, web(REPS_REFUSED, manager=302, other_manager=302, admin=302))),
    "assignment-apply": (None, by_user(405)),
    "sla-policy-list": (None, web(ADMIN_ONLY)),
    "kpi-dashboard": (None, web()),
    "kpi-detail": ("kpi", web()),
    "kpi-card": ("kpi", web()),
    "kpi-export": ("kpi", web()),
    "kpi-shadow": (None, web(REPS_REFUSED)),
    "kpi-shadow-promote": (None, web(ADMIN_ONLY, admin=302)),  # no version in shadow: back to the comparison
    "quota-list": (None, web(REPS_REFUSED)),  # managers: the quotas of their territories
    "quota-new": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),  # an empty form: shown again with its errors
    # Quota planning: managers plan their territories, admins all; nothing typed: the plan is shown with the reason.
    "quota-suggestions": (None, web(REPS_REFUSED), ({}, web(REPS_REFUSED))),
    "quota-edit": ("quota", web(ADMIN_ONLY)),
    "quota-delete": ("quota", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    # Planning scenarios: the matrix's is North's, copied by its manager and balanced; the South's manager never sees it.
    "scenario-list": (None, web(REPS_REFUSED), ({}, web(REPS_REFUSED))),  # no name typed: shown with the reason
    "scenario-detail": ("scenario", web(SCENARIO_SCOPE), ({}, web(SCENARIO_SCOPE))),  # empty settings: the reasons
    "scenario-delete": ("scenario", web(SCENARIO_SCOPE)),
    "scenario-territory-edit": ("scenario_territory", web(SCENARIO_SCOPE)),
    "scenario-member-new": ("scenario_territory", web(SCENARIO_SCOPE), ({}, web(SCENARIO_SCOPE))),
    "scenario-member-edit": ("scenario_member", web(SCENARIO_SCOPE)),
    "scenario-member-remove": ("scenario_member", web(SCENARIO_SCOPE)),
    "scenario-run": ("scenario", by_user(405)),
    "scenario-compare": ("scenario", web(SCENARIO_SCOPE)),
    "scenario-apply": ("scenario", web(SCENARIO_SCOPE)),
    "sla-policy-edit": ("sla_tier", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),  # an empty form: shown with its errors
    "scoring-index": (None, web(ADMIN_ONLY)),
    "icp-new": (None, web(ADMIN_ONLY)),
    "icp-edit": ("icp", web(ADMIN_ONLY)),
    "model-new": (None, web(ADMIN_ONLY, admin=405)),
    "model-detail": ("model", web(ADMIN_ONLY)),
    "model-edit": ("model", web(ADMIN_ONLY)),
    "model-preview": ("model", web(ADMIN_ONLY, admin=405)),
    "model-publish": ("model", web(ADMIN_ONLY)),
    "model-restore": ("model", web(ADMIN_ONLY)),
    # Lookalikes: admins see when scores were last refreshed and refresh them (a job); everyone else is refused.
    "lookalikes": (None, web(ADMIN_ONLY)),
    "lookalikes-run": (None, web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY, admin=302))),
    "model-shadow-start": ("model", web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY, admin=302))),
    "model-shadow-stop": ("model", web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY, admin=302))),
    "play-list": (None, web(ADMIN_ONLY)),
    "play-edit": ("play", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),  # an empty form: shown again with its errors
    "recalibration": (None, web(ADMIN_ONLY)),
    # An empty form: the settings are shown again with their errors.
    "recalibration-run": (None, web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY))),
    # A backtest from a version's page; with no cutoff typed it starts one as of the default, back to the page.
    "model-backtest": ("model", web(ADMIN_ONLY, admin=405), ({}, web(ADMIN_ONLY, admin=302))),
    "recalibration-ranking-export": (None, web(ADMIN_ONLY)),
    "recalibration-lift-export": (None, web(ADMIN_ONLY)),
    "recalibration-score-band-export": (None, web(ADMIN_ONLY)),
    "api-schema": (None, api()),
    "api-docs": (None, api()),
    "api:api-root": (None, api()),
    "api:token": (None, by_user(405)),
    "api:api-token-list": (None, api()),
    "api:api-token-detail": ("api_token", api(**NOT_MINE)),
    "api:account-list": (None, api(), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:account-detail": ("account", api(**NORTH_SCOPE)),
    # Merging (admins): no loser given is a 400; reps and managers are refused.
    "api:account-merge": ("account", api(**ADMIN_ONLY, admin=405), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:account-bulk": (None, api(**ADMIN_ONLY, admin=405), ([], api(**ADMIN_ONLY, admin=400))),
    "api:contact-bulk": (None, api(**ADMIN_ONLY, admin=405), ([], api(**ADMIN_ONLY, admin=400))),
    "api:contact-list": (None, api(), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:contact-detail": ("contact", api(**NORTH_SCOPE)),
    "api:signal-list": (None, api(), ([], api(**ADMIN_ONLY, admin=400))),
    "api:signal-detail": ("signal", api(**NORTH_SCOPE)),
    "api:opportunity-list": (None, api(), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:opportunity-detail": ("opportunity", api(**NORTH_SCOPE)),
    "api:territory-list": (None, api(), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:territory-detail": ("territory", api(**NORTH_SCOPE)),
    "api:membership-list": (None, api(), ({}, api(**REPS_REFUSED, manager=400, other_manager=400, admin=400))),
    "api:membership-detail": ("membership", api(**NORTH_SCOPE)),
    "api:membership-departure": (  # the matrix's member is active and here: nothing to hand over (400)
        "membership",
        api(**REPS_REFUSED, other_manager=404, manager=400, admin=400),
        ({}, api(**REPS_REFUSED, other_manager=404, manager=400, admin=400)),
    ),
    "api:scenario-list": (
        None,
        api(**REPS_REFUSED),
        ({}, api(**REPS_REFUSED, manager=400, other_manager=400, admin=400)),
    ),
    "api:scenario-detail": ("scenario", api(**SCENARIO_SCOPE)),
    "api:scenario-comparison": ("scenario", api(**SCENARIO_SCOPE)),
    # Running or applying starts a job (202); the admin, asking next, finds it started already (409).
    "api:scenario-run": (
        "scenario",
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({}, api(**SCENARIO_SCOPE, manager=202, admin=409)),
    ),
    # A scenario's territories and members change by PATCH (and DELETE): GET and POST are not theirs (405).
    "api:scenario-territory": (
        "scenario_territory",
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({}, api(**REPS_REFUSED, manager=405, other_manager=405, admin=405)),
    ),
    "api:scenario-member": (
        "scenario_member",
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({}, api(**REPS_REFUSED, manager=405, other_manager=405, admin=405)),
    ),
    "api:scenario-member-add": (  # an empty body names no person (400); the South's manager cannot see it (404)
        "scenario_territory",
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({}, api(**SCENARIO_SCOPE, manager=400, admin=400)),
    ),
    "api:scenario-apply": (
        "scenario",
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({}, api(**SCENARIO_SCOPE, manager=202, admin=409)),
    ),
    "api:sla-policy-list": (None, api(**REPS_REFUSED), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:sla-policy-detail": ("sla_policy", api(**REPS_REFUSED)),
    "api:handoff-list": (None, api()),
    # The change feed: every role reads it, each the events of the accounts they see (tests/integrations).
    "api:event-list": (None, api()),
    "api:handoff-detail": ("handoff", api(**NORTH_SCOPE)),
    "api:handoff-accept": (
        "handoff",
        api(north_rep=405, other_rep=405, manager=405, other_manager=405, admin=405),
        ({}, api(**NORTH_SCOPE, manager=403, admin=403)),  # only the owner decides
    ),
    "api:handoff-reject": (
        "handoff",
        api(north_rep=405, other_rep=405, manager=405, other_manager=405, admin=405),
        ({"reason": "not_icp"}, api(**NORTH_SCOPE, manager=403, admin=403)),
    ),
    "api:handoff-reassign": (
        "handoff",
        api(north_rep=405, other_rep=405, manager=405, other_manager=405, admin=405),
        ({}, api(**NORTH_SCOPE, north_rep=403, manager=400, admin=400)),  # no owner given
    ),
    "api:icp-list": (None, api(), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:icp-detail": ("icp", api()),
    "api:scoring-model-list": (None, api(), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:scoring-model-detail": ("model", api()),
    "api:scoring-model-preview": ("model", api(**ADMIN_ONLY, admin=404), ({}, api(**ADMIN_ONLY, admin=202))),
    "api:scoring-model-publish": ("model", api(**ADMIN_ONLY, admin=405), ({}, api(**ADMIN_ONLY, admin=202))),
    "api:scoring-model-restore": ("model", api(**ADMIN_ONLY, admin=405), ({}, api(**ADMIN_ONLY, admin=409))),
    "api:kpi-list": (None, api()),
    "api:kpi-detail": ("kpi", api()),
    "api:kpi-shadow": (None, api(**REPS_REFUSED)),
    # Suggested quotas of the next quarter; a save with no period is refused with field messages.
    "api:quota-suggestions": (
        None,
        api(**REPS_REFUSED),
        ({}, api(**REPS_REFUSED, manager=400, other_manager=400, admin=400)),
    ),
    # Recalibrations: admins start one (202, a job) and read its report; reps and managers are refused.
    "api:recalibration-list": (None, api(**ADMIN_ONLY), ({}, api(**ADMIN_ONLY, admin=202))),
    "api:recalibration-detail": ("recalibration", api(**ADMIN_ONLY)),
    # Backtests: started with a model (none given: 400) and read by id, by admins; there is no list to read.
    "api:backtest-list": (None, api(**ADMIN_ONLY, admin=405), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:backtest-detail": ("backtest", api(**ADMIN_ONLY)),
    # CRM connections (integrations/crm): admins only. An empty form is shown again with its errors; "Sync now" and
    # the push's confirmation are POSTs that go back to the connection (push is off: to its edit page); the mapping
    # reads the demo CRM's fields.
    "integrations:crm-connections": (None, web(ADMIN_ONLY)),
    "integrations:crm-connection-new": (None, web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:crm-connection-detail": ("crm_connection", web(ADMIN_ONLY)),
    "integrations:crm-connection-edit": ("crm_connection", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:crm-connection-delete": ("crm_connection", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "integrations:crm-sync-now": ("crm_connection", by_user(405), ({}, web(ADMIN_ONLY, admin=302))),
    "integrations:crm-mapping": ("crm_mapping", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY))),
    "integrations:crm-push-diff": ("crm_connection", web(ADMIN_ONLY), ({}, web(ADMIN_ONLY, admin=302))),
    "api:job-list": (None, api()),
    "api:job-detail": ("job", api(**MANAGER_JOB)),
    "api:user-list": (None, api(**ADMIN_ONLY), ({}, api(**ADMIN_ONLY, admin=400))),
    "api:user-detail": ("user", api(**ADMIN_ONLY)),
    "api:assignment-preview": (  # GET: the caller's latest preview (none yet: 404); POST prepares one (202, a job)
        None,
        api(**REPS_REFUSED, manager=404, other_manager=404, admin=404),
        ({"account_ids": "x"}, api(**REPS_REFUSED, manager=400, other_manager=400, admin=400)),
    ),
    "api:assignment-apply": (
        None,
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({"account_ids": "x"}, api(**REPS_REFUSED, manager=400, other_manager=400, admin=400)),
    ),
    "api:assignment-reassign": (
        None,
        api(**REPS_REFUSED, manager=405, other_manager=405, admin=405),
        ({}, api(**REPS_REFUSED, manager=400, other_manager=400, admin=400)),
    ),
}


def routes():
    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue  # Django admin: its own site permission, tested in test_home_pages
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and "format" not in pattern.pattern.regex.groupindex:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return sorted(set(walk(get_resolver().url_patterns)))


def test_every_route_has_an_entry():
    missing = [name for name in routes() if name not in MATRIX]
    assert not missing, f"Add these routes to the permission matrix: {missing}"
    assert not set(MATRIX) - set(routes()), "The matrix names routes that no longer exist"


@pytest.fixture
def objects(world):
    account = world.north_account
    model = ScoringModelFactory()  # a draft
    return {
        "account": {"account_id": account.pk},
        "territory": {"territory_id": world.north.pk},
        "membership": {"membership_id": world.north_rep.memberships.get().pk},
        "job": {"job_id": job_create(kind="assign", created_by=world.manager).pk},
        "recalibration": {"job_id": job_create(kind="recalibrate", created_by=world.admin).pk},
        "backtest": {"job_id": job_create(kind="backtest", created_by=world.admin, params={"model_id": model.pk}).pk},
        "contact": {"pk": ContactFactory(account=account).pk},
        "signal": {"pk": SignalFactory(account=account).pk},
        "opportunity": {"pk": OpportunityFactory(account=account).pk},
        "user": {"pk": world.north_rep.pk},
        "icp": {"icp_id": model.icp_id},
        "model": {"model_id": model.pk},
        "play": {"tier": "tier_1"},
        "sla_tier": {"tier": "tier_1"},
        "kpi": {"key": "win_rate"},
        "quota": {"quota_id": _quota(world).pk},
        "sla_policy": {"pk": SlaPolicyFactory(tier="tier_1").pk},
        "handoff": {"pk": (handoff := _handoff(world)).pk},
        "handoff_page": {"handoff_id": handoff.pk},
        "api_token": {"token_id": token_create(world.north_rep, name="CRM sync")[0].pk},
        "sso_mapping": {"mapping_id": SsoGroupRole.objects.create(group="sales-east", role="rep").pk},
        "duplicate_pair": {"pair_id": _duplicate_pair(world).pk},
        **_webhook(),
        "alert_channel": {"channel_id": _alert_channel(world).pk},
        **_scenario(world),
        **_crm_connection(),
    }


def _crm_connection():
    """A connection to the demo CRM (started in-process on first use)."""
    from integrations.crm.services import connection_save

    connection = connection_save(vendor="hubspot", name="Demo CRM", values={"base_url": "demo:"})
    return {
        "crm_connection": {"connection_id": connection.pk},
        "crm_mapping": {"connection_id": connection.pk, "obj": "account"},
    }


def _webhook():
    """An endpoint (on a closed local port: a test event is refused at once) with one failed delivery."""
    from core.events import record
    from integrations.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(name="Warehouse", url="http://127.0.0.1:9/hook", kinds=["tier.changed"])
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=record("tier.changed"), status="failed")
    return {"webhook": {"endpoint_id": endpoint.pk}, "webhook_delivery": {"delivery_id": delivery.pk}}


def _scenario(world):
    """North's scenario, copied by its manager and balanced (ready to apply), with its territory and a member."""
    from territories.services.scenarios import scenario_create, scenario_run

    scenario = scenario_create(user=world.manager, name="North plan")
    scenario_run(scenario=scenario)
    territory = scenario.territories.get(source=world.north)
    member = territory.members.get(user=world.north_rep)
    return {
        "scenario": {"scenario_id": scenario.pk},
        "scenario_territory": {"scenario_id": scenario.pk, "territory_id": territory.pk},
        "scenario_member": {"scenario_id": scenario.pk, "member_id": member.pk},
    }


def _quota(world):
    import datetime as dt

    from territories.models import Quota

    return Quota.objects.create(
        territory=world.north, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31), amount=100
    )


def _duplicate_pair(world):
    """A likely duplicate of the North account, found by the duplicates job."""
    from accounts.models import DuplicateCandidate

    from .factories import AccountFactory

    twin = AccountFactory(name="North account Inc.", country=world.north_account.country)
    return DuplicateCandidate.objects.create(account_a=world.north_account, account_b=twin, score=97, evidence={})


def _alert_channel(world):
    """North's Slack channel; its webhook is a reserved (documentation) address, so a test post is refused offline."""
    from integrations.models import AlertChannel

    return AlertChannel.objects.create(
        kind="slack", name="#sales-north", webhook_url="https://203.0.113.7/services/T0/B0/x", territory=world.north
    )


def _handoff(world):
    """A pending handoff of a North account, owned by north_rep."""
    from handoffs.models import Handoff

    mqa = MQAFactory(account=world.north_account, tier="tier_1")
    return Handoff.objects.create(
        account=world.north_account, mqa=mqa, territory=world.north, owner=world.north_rep, tier="tier_1"
    )


def url_for(name: str, objects: dict) -> str:
    builder = MATRIX[name][0]
    kwargs = dict(objects[builder]) if builder else {}
    if name.startswith("api:") and builder and "key" not in kwargs:  # KPIs are named by key, the rest by id
        (_first, pk), *inner = kwargs.items()  # an object inside another (a scenario's member) keeps its own name
        kwargs = {"pk": pk, **dict(inner)}
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_get_answers_as_the_matrix_says(name, world, objects):
    url = url_for(name, objects)
    answers = {}
    for user in USERS:
        client = APIClient()
        if user != "anonymous":
            client.force_login(getattr(world, user))
        answers[user] = client.get(url).status_code
    assert answers == MATRIX[name][1], url


@pytest.mark.parametrize("name", sorted(n for n, entry in MATRIX.items() if len(entry) == 3))
def test_writes_answer_as_the_matrix_says(name, world, objects):
    url = url_for(name, objects)
    body, expected = MATRIX[name][2]
    answers = {}
    for user in USERS:
        client = APIClient()
        if user != "anonymous":
            client.force_login(getattr(world, user))
        answers[user] = client.post(url, body, format="json").status_code
    assert answers == expected, url


# --- Related objects: what hangs off a visible object is shown only when the reader may see it too ---------------


@pytest.mark.parametrize("user", ["north_rep", "manager", "other_rep", "other_manager", "admin"])
def test_a_parent_outside_the_readers_scope_is_not_named(user, world, client):
    """North's account has its parent in the South: the page and the API name it only to those who see the South
    (and a subsidiary in the South only to them)."""
    from accounts.models import Account

    from .factories import AccountFactory

    parent = AccountFactory(name="Southern Parent Corp", territory=world.south)
    child = world.north_account
    Account.objects.filter(pk=child.pk).update(parent=parent)
    AccountFactory(name="Southern Sister Ltd", territory=world.south, parent=child)
    reader = getattr(world, user)
    sees_south = user in ("other_rep", "other_manager", "admin")

    client.force_login(reader)
    page = client.get(reverse("account-detail", args=[child.pk]))
    if user in ("other_rep", "other_manager"):
        assert page.status_code == 404  # the child itself is North's
    else:
        html = page.content.decode()
        assert ("Southern Parent Corp" in html) is sees_south
        assert ("Southern Sister Ltd" in html) is sees_south
    api_client = APIClient()
    api_client.force_authenticate(reader)
    detail = api_client.get(f"/api/v1/accounts/{child.pk}/")
    if detail.status_code == 200:
        assert detail.json()["parent"] == (parent.pk if sees_south else None)


@pytest.mark.parametrize(("user", "names_parent"), [("sub_rep", False), ("manager", True), ("admin", True)])
def test_a_territory_names_its_parent_only_to_those_who_see_it(user, names_parent, world, client):
    """North-East sits below North: its rep does not see North, so neither the API nor the board names it."""
    reader = getattr(world, user)
    api_client = APIClient()
    api_client.force_authenticate(reader)
    territory = api_client.get(f"/api/v1/territories/{world.north_east.pk}/").json()
    assert territory["parent"] == (world.north.pk if names_parent else None)
    if user != "sub_rep":  # reps have no territory board
        client.force_login(reader)
        board = client.get(reverse("territory-detail", args=[world.north_east.pk])).content.decode()
        assert "In North ·" in board


def test_the_board_of_a_territory_below_an_unseen_one_does_not_name_it(world, client):
    from territories.models import Membership

    from .factories import MembershipFactory, UserFactory

    ne_manager = UserFactory(username="ne_manager", role="manager")
    MembershipFactory(user=ne_manager, territory=world.north_east, role=Membership.Role.MANAGER)
    client.force_login(ne_manager)
    board = client.get(reverse("territory-detail", args=[world.north_east.pk])).content.decode()
    listing = client.get(reverse("territory-list")).content.decode()
    assert "North-East" in board and "In North" not in board
    assert "North-East" in listing and "in North<" not in listing
