"""`updated_since` on the account, contact, opportunity, signal and handoff lists: what changed at or after a moment,
validated like the other datetime filters, and read from an index on PostgreSQL."""

import datetime as dt

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.models import Account, Contact, Opportunity, Signal
from handoffs.models import Handoff
from handoffs.services import handoff_accept
from tests.conftest import require_postgres
from tests.factories import ContactFactory, HandoffFactory, OpportunityFactory, SignalFactory

pytestmark = pytest.mark.django_db
OLD = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
NEW = dt.datetime(2026, 2, 1, 8, 0, tzinfo=dt.UTC)
# (path, model, the time column updated_since reads)
LISTS = [
    ("/api/v1/accounts/", Account, "updated_at"),
    ("/api/v1/contacts/", Contact, "updated_at"),
    ("/api/v1/opportunities/", Opportunity, "updated_at"),
    ("/api/v1/signals/", Signal, "created_at"),
    ("/api/v1/handoffs/", Handoff, "updated_at"),
]


def make(model, account):
    return {
        Account: lambda: account,
        Contact: lambda: ContactFactory(account=account),
        Opportunity: lambda: OpportunityFactory(account=account),
        Signal: lambda: SignalFactory(account=account),
        Handoff: lambda: HandoffFactory(account=account),
    }[model]()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


@pytest.mark.parametrize("path, model, column", LISTS)
def test_only_what_changed_since_the_moment_is_listed(world, path, model, column):
    old, new = make(model, world.south_account), make(model, world.north_account)
    model.objects.filter(pk=old.pk).update(**{column: OLD})
    model.objects.filter(pk=new.pk).update(**{column: NEW})
    model.objects.exclude(pk__in=[old.pk, new.pk]).update(**{column: OLD - dt.timedelta(days=1)})
    api = APIClient()
    api.force_authenticate(world.admin)
    assert ids(api.get(path, {"updated_since": "2026-01-15T00:00:00Z"})) == [new.pk]
    # Any offset is taken to UTC first: 2026-01-01T09:00+01:00 is 08:00Z, the old row's moment (included).
    assert ids(api.get(path, {"updated_since": "2026-01-01T09:00:00+01:00"})) == sorted([old.pk, new.pk])
    assert ids(api.get(path, {"updated_since": "2026-02-02T00:00:00+16:00"})) == [new.pk]  # 2026-02-01T08:00Z
    for bad in ("yesterday", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+05:00"):
        refused = api.get(path, {"updated_since": bad})
        assert refused.status_code == 400 and "updated_since" in refused.json(), (bad, refused.content)


def test_a_rep_gets_only_their_accounts_changed_since(world):
    Account.objects.update(updated_at=NEW)
    api = APIClient()
    api.force_authenticate(world.other_rep)
    assert ids(api.get("/api/v1/accounts/", {"updated_since": "2026-01-15T00:00:00Z"})) == [world.south_account.pk]


def test_a_decision_moves_a_handoffs_updated_at(world):
    handoff = HandoffFactory(account=world.north_account)
    Handoff.objects.filter(pk=handoff.pk).update(updated_at=OLD)
    handoff_accept(user=world.north_rep, handoff_id=handoff.pk)
    api = APIClient()
    api.force_authenticate(world.north_rep)
    assert ids(api.get("/api/v1/handoffs/", {"updated_since": "2026-01-15T00:00:00Z"})) == [handoff.pk]
    assert api.get(f"/api/v1/handoffs/{handoff.pk}/").json()["updated_at"] > "2026-01-15"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "model, index",
    [
        (Account, "account_updated_idx"),
        (Contact, "contact_updated_idx"),
        (Opportunity, "opportunity_updated_idx"),
        (Signal, "signal_created_idx"),
        (Handoff, "handoff_updated_idx"),
    ],
)
def test_an_index_serves_updated_since(world, model, index):
    require_postgres()
    column = "created_at" if model is Signal else "updated_at"
    sql, params = model.objects.filter(**{f"{column}__gte": NEW}).order_by(column)[:50].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
