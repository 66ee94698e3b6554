"""The audit trail: who changed which ICP, scoring model, play, territory, membership, quota or SLA policy, and what,
in the trade's words: each entry's own kind, people and territories by name, criteria as sentences, values whole."""

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.audit import audit_entries
from handoffs.models import SlaPolicy
from handoffs.sla_policies import sla_policy_save
from segmentation import services
from segmentation.models import ICP, Play
from territories.models import Membership, Quota
from territories.services import membership_update, territory_update
from tests.factories import ScoringModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acting_as():
    """Changes made as `user` (as the request middleware records them on the pages)."""

    def act(user):
        request = RequestFactory().get("/")
        request.user = user
        HistoricalRecords.context.request = request

    yield act
    if hasattr(HistoricalRecords.context, "request"):
        del HistoricalRecords.context.request


def crit(attribute, operator, value, points=None, group=None) -> dict:
    item = {"attribute": attribute, "operator": operator, "value": value}
    if points is not None:
        item.update(points=points, group=group or "")
    return item


def text_of(response) -> str:
    """The page's text as a person reads it: tags dropped, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split()).replace(" :", ":")


def entry_of(entries, label: str):
    found = [e for e in entries if e.label == label and e.kind == "Changed"]
    assert found, (label, [(e.label, e.kind) for e in entries])
    return found[0]


def words(entry) -> dict:
    """{label: "before → after"} or {label: ["Added: ...", "Removed: ..."]}."""
    out = {}
    for change in entry.changes:
        if change.is_list:
            out[change.label] = [f"Removed: {x}" for x in change.removed] + [f"Added: {x}" for x in change.added]
        else:
            out[change.label] = f"{change.before} → {change.after}"
    return out


def test_changes_made_through_the_pages_record_who_and_what(client, world):
    client.force_login(world.admin)
    play = Play.objects.get(tier="tier_1")
    response = client.post(
        reverse("play-edit", args=["tier_1"]),
        {"name": "Focus accounts", "motion": play.motion, "owner_role": play.owner_role, "primary_kpi": "Pipeline"},
    )
    assert response.status_code == 302
    record = Play.history.filter(tier="tier_1").first()
    assert (record.history_type, record.history_user) == ("~", world.admin)
    page = text_of(client.get(reverse("audit-trail"), {"kind": "Play"}))
    assert "Play Tier 1: Focus accounts Changed" in page
    assert f"Name: {play.name} → Focus accounts" in page and "Primary KPI:" in page
    assert world.admin.get_full_name() in page


def test_every_audited_model_keeps_its_history_and_a_publish_records_the_archived_version(world):
    icp = ICP.objects.create(name="Audited ICP")
    icp.description = "Now with a description"
    icp.save()
    assert [h.history_type for h in icp.history.all()] == ["~", "+"]
    membership = Membership.objects.get(user=world.north_rep)
    membership.max_tier1_accounts = 3
    membership.save()
    assert membership.history.first().max_tier1_accounts == 3
    SlaPolicy.objects.filter(tier="tier_1").delete()
    assert SlaPolicy.history.filter(tier="tier_1").first().history_type == "-"

    first, second = ScoringModelFactory(), ScoringModelFactory()
    services.model_publish(model=first, user=world.admin)
    services.model_publish(model=second, user=world.admin)
    statuses = list(first.history.values_list("status", flat=True))
    assert statuses[:2] == ["archived", "active"]  # the archiving of the old version is in its history


def test_each_entry_is_labelled_with_its_own_kind(world, acting_as):
    """Every entry used to read "SLA policy" (the label bound when the streams were merged, not per model)."""
    acting_as(world.admin)
    icp = ICP.objects.create(name="Kinds ICP")
    services.icp_update(icp=icp, user=world.admin, values={"description": "Mid-market software"})
    territory_update(territory=world.north, values={"priority": 7})
    membership_update(membership=Membership.objects.get(user=world.north_rep), values={"max_tier1_accounts": 4})
    policy = SlaPolicy.objects.get(tier="tier_1")
    policy.accept_within_hours = 12
    sla_policy_save(policy=policy, user=world.admin)
    Quota.objects.create(territory=world.south, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31),
                         amount=250_000)  # fmt: skip
    entries, _ = audit_entries()
    kinds = {(e.label, e.name) for e in entries}
    assert ("ICP", "Kinds ICP") in kinds
    assert ("Territory", "North") in kinds
    assert ("Membership", f"{world.north_rep.get_full_name()} in North (Rep)") in kinds
    assert ("SLA policy", str(policy)) in kinds
    assert ("Quota", "South, 2026-01-01 to 2026-12-31") in kinds
    assert [e.label for e in entries[:5]] == ["Quota", "SLA policy", "Membership", "Territory", "ICP"]


def test_changes_read_in_the_trades_words(world, acting_as):
    acting_as(world.admin)
    icp = services.icp_create(
        user=world.admin,
        values={
            "name": "Words ICP",
            "criteria": [crit("employee_count", "gte", 1000, 20, "Size"), crit("industry", "in", ["software"], 30)],
            "exclusions": [crit("is_customer", "eq", True)],
        },
    )
    long_text = "Mid-market software companies that sell to finance teams. " * 6
    services.icp_update(
        icp=icp,
        user=world.admin,
        values={
            "description": long_text,
            "criteria": [crit("employee_count", "between", [200, 5000], 25, "Size"), icp.criteria[1]],
            "exclusions": [crit("country", "in", ["united states"])],
        },
    )
    territory_update(
        territory=world.north_east,
        values={
            "parent": world.south,
            "criteria": [crit("annual_revenue", "gte", 1_500_000), crit("country", "eq", "canada")],
            "is_active": False,
        },
    )
    membership_update(membership=Membership.objects.get(user=world.north_rep), values={"max_tier1_accounts": 1500})
    policy = SlaPolicy.objects.get(tier="tier_2")
    action_before = policy.get_breach_action_display()
    policy.working_days, policy.breach_action, policy.accept_within_hours = [0, 1, 2, 3], "recycle", 700
    sla_policy_save(policy=policy, user=world.admin)
    model = ScoringModelFactory(required_personas=["champion"])
    services.model_draft_update(
        model=model,
        user=world.admin,
        values={"w_fit": 0.5, "w_signal": 0.4, "required_personas": ["champion", "economic_buyer"]},
    )

    entries, _ = audit_entries()
    icp_words = words(entry_of(entries, "ICP"))
    assert icp_words["Description"] == f"none → {long_text}"  # whole, not cut
    assert icp_words["Fit criteria"] == [
        "Removed: Size: Employees ≥ 1,000 (+20 points)",
        "Added: Size: Employees between 200 and 5,000 (+25 points)",
    ]
    assert icp_words["Exclusions"] == ["Removed: Is a customer", "Added: Country is one of United States"]

    territory_words = words(entry_of(entries, "Territory"))
    assert territory_words["Parent"] == "North → South"
    assert territory_words["Matching criteria"] == ["Added: Annual revenue ≥ $1.5M", "Added: Country is Canada"]
    assert territory_words["Active"] == "yes → no"

    membership = entry_of(entries, "Membership")
    assert membership.name == f"{world.north_rep.get_full_name()} in North (Rep)"
    assert words(membership) == {"Tier 1 capacity": "no limit → 1,500"}

    policy_words = words(entry_of(entries, "SLA policy"))
    assert policy_words["Working days"] == ["Removed: Friday"]
    assert policy_words["Breach action"] == f"{action_before} → Recycle the account"
    assert policy_words["Accept within (hours)"] == "24 → 700"

    model_words = words(entry_of(entries, "Scoring model"))
    assert model_words["Fit weight"] == "0.6 → 0.5" and model_words["Signal weight"] == "0.3 → 0.4"
    assert model_words["Buying group personas"] == ["Added: Economic buyer"]

    for entry in (e for e in entries if e.kind == "Changed"):
        assert entry.user == world.admin.get_full_name()
        for change in entry.changes:
            text = f"{change.before} {change.after} {change.added} {change.removed}"
            assert "{'" not in text and "_id" not in text and "..." not in text


def test_a_created_row_shows_its_values_and_who_when_no_request_recorded_it(world):
    icp = services.icp_create(
        user=world.admin, values={"name": "Created ICP", "criteria": [crit("city", "eq", "berlin", 5, "City")]}
    )
    entries, _ = audit_entries(label="ICP")
    created = next(e for e in entries if e.object_id == icp.pk)
    assert (created.kind, created.user) == ("Created", world.admin.get_full_name())  # who saved it, as the row says
    shown = {v.label: v.after or v.added for v in created.values}
    assert shown == {"Name": "Created ICP", "Fit criteria": ["City: City is Berlin (+5 points)"]}


def test_the_page_reads_a_fixed_number_of_queries(client, world, acting_as):
    acting_as(world.admin)
    membership = Membership.objects.get(user=world.north_rep)

    def queries() -> int:
        client.force_login(world.admin)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("audit-trail")).status_code == 200
        return len(captured)

    for n in range(3):
        membership_update(membership=membership, values={"max_accounts": 10 + n})
        territory_update(territory=world.north, values={"priority": 20 + n})
    few = queries()
    for n in range(20):
        membership_update(membership=membership, values={"max_accounts": 100 + n})
        territory_update(territory=world.south, values={"priority": 50 + n, "parent": world.north if n % 2 else None})
    assert queries() == few


def test_the_page_shows_kinds_names_and_criteria_in_words(client, world):
    client.force_login(world.admin)
    icp = ICP.objects.create(name="Page ICP", criteria=[crit("employee_count", "gte", 500, 10, "Size")])
    services.icp_update(
        icp=icp, user=world.admin, values={"criteria": [crit("employee_count", "gte", 750, 10, "Size")]}
    )
    page = text_of(client.get(reverse("audit-trail")))
    assert "ICP Page ICP Changed" in page and "Fit criteria" in page
    assert "Size: Employees ≥ 750 (+10 points)" in page and "Size: Employees ≥ 500 (+10 points)" in page
    assert "employee_count" not in page


def test_the_audit_page_is_for_admins_pages_and_filters(client, world):
    for n in range(60):
        ICP.objects.create(name=f"ICP {n:02}")
    client.force_login(world.admin)
    first = client.get(reverse("audit-trail"))
    assert first.status_code == 200 and len(first.context["entries"]) == 50 and first.context["next_page"] == 2
    newest = [e.name for e in first.context["entries"]]
    assert newest[0] == "ICP 59"
    second = client.get(reverse("audit-trail"), {"page": 2})
    older = [e.name for e in second.context["entries"]]
    assert newest[:50] == [f"ICP {n:02}" for n in range(59, 9, -1)]
    assert older[:10] == [f"ICP {n:02}" for n in range(9, -1, -1)]  # the next ten, then what came before them
    assert second.context["previous_page"] == 1
    only = client.get(reverse("audit-trail"), {"kind": "Territory"})
    assert {e.label for e in only.context["entries"]} == {"Territory"}
    assert client.get(reverse("audit-trail"), {"kind": "nonsense", "page": "x"}).status_code == 200
    for user in (world.manager, world.north_rep, world.outsider):
        client.force_login(user)
        assert client.get(reverse("audit-trail")).status_code == 403
    client.logout()
    assert client.get(reverse("audit-trail")).status_code == 302
