"""Merging two accounts: nothing is lost (by counts), tables of the apps above accounts follow, unique rules are
kept, the merge is audited and the survivor rescored; only admins may merge."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.merge import account_merge, merge_preview
from accounts.models import Account, AccountMerge, Contact, DuplicateCandidate, Opportunity, PendingRescore, Signal
from handoffs.models import Handoff
from insights.models import AccountPotential
from segmentation.models import MQA, AccountScore, TierChange
from territories.models import OwnershipChange

from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    ContactFactory,
    MQAFactory,
    OpportunityFactory,
    SignalFactory,
    TierChangeFactory,
)

pytestmark = pytest.mark.django_db

COUNTED = {
    "contacts": lambda a: Contact.objects.filter(account=a).count(),
    "signals": lambda a: Signal.objects.filter(account=a).count(),
    "opportunities": lambda a: Opportunity.objects.filter(account=a).count(),
    "handoffs": lambda a: Handoff.objects.filter(account=a).count(),
    "mqas": lambda a: MQA.objects.filter(account=a).count(),
    "ownership changes": lambda a: OwnershipChange.objects.filter(account=a).count(),
    "tier changes": lambda a: TierChange.objects.filter(account=a).count(),
}


def _history(account, world, *, owner, open_mqa: bool, n: int):
    """n of each kind of record on `account`, as the apps above accounts write them."""
    for i in range(n):
        ContactFactory(account=account)
        SignalFactory(account=account)
        OpportunityFactory(account=account)
        TierChangeFactory(account=account)
        OwnershipChange.objects.create(account=account, to_owner=owner, to_territory=world.north, rule=f"rule {i}")
        mqa = MQAFactory(account=account, status="open" if open_mqa and i == 0 else "accepted")
        Handoff.objects.create(account=account, mqa=mqa, territory=world.north, owner=owner, tier="tier_2")


@pytest.fixture
def pair(world):
    survivor = AccountFactory(name="Acme Widgets", domain="acme.com", external_id="CRM-1", industry="",
                              technologies=["Salesforce"], attributes={"funding_stage": "seed"},
                              territory=world.north, owner=world.north_rep)  # fmt: skip
    loser = AccountFactory(name="ACME Widgets Inc.", domain="shop.acme.com", external_id="CRM-2",
                           industry="Manufacturing", technologies=["Snowflake", "Salesforce"],
                           attributes={"funding_stage": "series_a", "segment": "mid-market"}, employee_count=900)  # fmt: skip
    _history(survivor, world, owner=world.north_rep, open_mqa=True, n=2)
    _history(loser, world, owner=world.north_rep, open_mqa=False, n=3)
    AccountScoreFactory(account=survivor, unified=70)
    AccountScoreFactory(account=loser, unified=30)
    AccountPotential.objects.create(account=loser, expected_value=1000, win_probability=0.1, deal_size=10000,
                                    band="60-80", computed_at=timezone.now())  # fmt: skip
    return survivor, loser


def test_nothing_is_lost_in_a_merge_by_counts(pair, world):
    survivor, loser = pair
    before = {label: count(survivor) + count(loser) for label, count in COUNTED.items()}
    assert before == {"contacts": 5, "signals": 5, "opportunities": 5, "handoffs": 5, "mqas": 5,
                      "ownership changes": 5, "tier changes": 5}  # fmt: skip
    record = account_merge(survivor=survivor, loser=loser, by=world.admin)
    after = {label: count(survivor) for label, count in COUNTED.items()}
    assert after == before
    assert not Account.objects.filter(pk=loser.pk).exists()
    # One-to-one rows: the survivor keeps its score; the loser's potential (the survivor had none) moves.
    assert AccountScore.objects.get(account=survivor).unified == 70
    assert AccountScore.objects.count() == 1
    assert AccountPotential.objects.get().account_id == survivor.pk
    assert record.moved["contacts"] == {"moved": 3, "merged": 0, "replaced": 0}
    assert record.moved["account scores"]["replaced"] == 1
    assert record.moved["handoffs"]["moved"] == 3


def test_the_survivor_keeps_its_values_fills_blanks_and_unites_lists(pair, world):
    survivor, loser = pair
    account_merge(survivor=survivor, loser=loser, by=world.admin)
    survivor.refresh_from_db()
    assert (survivor.name, survivor.domain, survivor.external_id) == ("Acme Widgets", "acme.com", "CRM-1")
    assert survivor.industry == "Manufacturing"  # was blank
    assert survivor.employee_count == 500  # the survivor's own value stays
    assert survivor.technologies == ["Salesforce", "Snowflake"]
    assert survivor.attributes == {"funding_stage": "seed", "segment": "mid-market"}


def test_a_merge_is_audited_and_rescores_the_survivor(client, pair, world):
    survivor, loser = pair
    PendingRescore.objects.all().delete()
    record = account_merge(survivor=survivor, loser=loser, by=world.admin)
    assert PendingRescore.objects.filter(account_id=survivor.pk).exists()
    assert not PendingRescore.objects.filter(account_id=loser.pk).exists()
    history = AccountMerge.history.get()
    assert (history.history_type, history.history_user) == ("+", world.admin)
    assert (record.merged_name, record.merged_external_id, record.survivor_id) == ("ACME Widgets Inc.", "CRM-2",
                                                                                  survivor.pk)  # fmt: skip
    client.force_login(world.admin)
    audit = client.get(reverse("audit-trail")).content.decode()
    assert "Account merge" in audit and "ACME Widgets Inc. merged into Acme Widgets" in audit


def test_rows_both_accounts_hold_are_kept_once_and_counted_as_merged(world):
    survivor = AccountFactory(name="Globex")
    loser = AccountFactory(name="Globex SA")
    kept = ContactFactory(account=survivor, email="jane@globex.com", name="Jane Roe")
    twin = ContactFactory(account=loser, email="jane@globex.com", name="Jane R.")
    when = timezone.now() - dt.timedelta(days=2)
    SignalFactory(account=survivor, contact=kept, external_id=None, kind="web_visit", occurred_at=when)
    SignalFactory(account=loser, contact=twin, external_id=None, kind="web_visit", occurred_at=when)  # the same visit
    SignalFactory(account=loser, contact=twin, external_id=None, kind="meeting", occurred_at=when)
    MQAFactory(account=survivor, status="open")
    MQAFactory(account=loser, status="open")  # one open MQA per account: the two become one
    record = account_merge(survivor=survivor, loser=loser, by=world.admin)
    assert list(survivor.contacts.values_list("email", flat=True)) == ["jane@globex.com"]
    assert sorted(survivor.signals.values_list("kind", "contact_id")) == [("meeting", kept.pk), ("web_visit", kept.pk)]
    assert record.moved["contacts"] == {"moved": 0, "merged": 1, "replaced": 0}
    assert record.moved["signals"] == {"moved": 1, "merged": 1, "replaced": 0}
    assert record.moved["MQAs"] == {"moved": 0, "merged": 1, "replaced": 0}
    assert MQA.objects.filter(account=survivor, status="open").count() == 1


def test_subsidiaries_follow_and_no_account_becomes_its_own_parent(world):
    holding = AccountFactory(name="Holding")
    survivor = AccountFactory(name="Acme", parent=None)
    loser = AccountFactory(name="Acme Inc", parent=holding)
    child = AccountFactory(name="Acme Labs", parent=loser)
    survivor_child = AccountFactory(name="Acme Two", parent=survivor)
    account_merge(survivor=survivor, loser=loser, by=world.admin)
    child.refresh_from_db()
    survivor.refresh_from_db()
    survivor_child.refresh_from_db()
    assert child.parent_id == survivor.pk and survivor_child.parent_id == survivor.pk
    assert survivor.parent_id == holding.pk  # filled from the loser
    # Merging a parent into its own subsidiary: the subsidiary does not become its own parent.
    account_merge(survivor=child, loser=survivor, by=world.admin)
    child.refresh_from_db()
    assert child.parent_id == holding.pk


def test_an_account_cannot_be_merged_into_itself(world):
    account = AccountFactory()
    with pytest.raises(ValidationError, match="itself"):
        account_merge(survivor=account, loser=account, by=world.admin)


def test_the_preview_counts_what_will_move(pair):
    survivor, loser = pair
    moves = dict(merge_preview(survivor=survivor, loser=loser))
    assert moves["contacts"] == 3 and moves["signals"] == 3 and moves["handoffs"] == 3
    assert moves["ownership changes"] == 3 and moves["tier changes"] == 3 and moves["account scores"] == 1


# --- pages and API --------------------------------------------------------------------------------------------------


def _candidate(survivor, loser):
    a, b = sorted([survivor, loser], key=lambda x: x.pk)
    return DuplicateCandidate.objects.create(account_a=a, account_b=b, score=96,
                                             evidence={"same_domain": True, "name_similarity": 100,
                                                       "same_country": True})  # fmt: skip


def test_the_admin_merges_from_the_duplicates_page_after_a_confirmation(client, pair, world):
    survivor, loser = pair
    candidate = _candidate(survivor, loser)
    client.force_login(world.admin)
    page = client.get(reverse("account-duplicates"))
    assert page.status_code == 200 and "ACME Widgets Inc." in page.content.decode()
    assert "Same domain" in page.content.decode()
    url = reverse("account-duplicate-merge", args=[candidate.pk])
    confirm = client.get(url, {"keep": survivor.pk})
    text = confirm.content.decode()
    assert "Merging <strong>ACME Widgets Inc.</strong> into <strong>Acme Widgets</strong>" in text
    assert '<td>Contacts</td><td class="text-end">3</td>' in text
    assert Account.objects.filter(pk=loser.pk).exists()  # nothing happens before the confirmation
    done = client.post(url, {"keep": survivor.pk})
    assert done.status_code == 302 and done["Location"] == reverse("account-detail", args=[survivor.pk])
    assert not Account.objects.filter(pk=loser.pk).exists()
    assert survivor.contacts.count() == 5


@pytest.mark.parametrize("role", ["north_rep", "manager"])
def test_reps_and_managers_may_not_see_duplicates_nor_merge(client, pair, world, role):
    survivor, loser = pair
    candidate = _candidate(survivor, loser)
    client.force_login(getattr(world, role))
    assert client.get(reverse("account-duplicates")).status_code == 403
    assert client.post(reverse("account-duplicates")).status_code == 403
    assert (
        client.post(reverse("account-duplicate-merge", args=[candidate.pk]), {"keep": survivor.pk}).status_code == 403
    )
    api = APIClient()
    api.force_authenticate(getattr(world, role))
    assert api.post(f"/api/v1/accounts/{survivor.pk}/merge/", {"loser": loser.pk}, format="json").status_code == 403
    assert Account.objects.filter(pk=loser.pk).exists()


def test_the_api_merges_for_admins_and_explains_a_bad_request(pair, world):
    survivor, loser = pair
    api = APIClient()
    api.force_authenticate(world.admin)
    url = f"/api/v1/accounts/{survivor.pk}/merge/"
    assert api.post(url, {}, format="json").json() == {"loser": ["Give the id of the account to merge into this one."]}
    assert api.post(url, {"loser": survivor.pk}, format="json").json() == {
        "loser": ["An account cannot be merged into itself."]
    }
    response = api.post(url, {"loser": loser.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["merged_account"] == loser.pk and response.json()["moved"]["contacts"]["moved"] == 3
    assert api.post(url, {"loser": loser.pk}, format="json").json() == {"loser": [f"No account has the id {loser.pk}."]}


def test_territories_that_named_the_merged_account_name_the_survivor(world):
    survivor = AccountFactory(name="Acme")
    loser = AccountFactory(name="Acme Inc")
    world.north.named_accounts.add(survivor, loser)  # both named: the survivor is named once
    world.south.named_accounts.add(loser)  # only the merged one: the survivor takes its place
    record = account_merge(survivor=survivor, loser=loser, by=world.admin)
    assert list(world.north.named_accounts.all()) == [survivor]
    assert list(world.south.named_accounts.all()) == [survivor]
    assert record.moved["territories (named accounts)"] == {"moved": 1, "merged": 1, "replaced": 0}


def test_the_merge_carries_topic_surges_and_lookalike_reasons_and_refreshes_lookalikes_for_a_won_deal(world):
    """The tables of the other intelligence features follow a merge too: a topic both accounts have is kept once (the
    survivor's), the loser's other topics move; the survivor keeps its lookalike reasons; a won deal moving to the
    survivor changes the set of won accounts, so the lookalike refresh is queued."""
    from accounts.models import PendingLookalike, TopicSurge
    from segmentation.models import Lookalike

    survivor = AccountFactory(name="Initech", territory=world.north)
    loser = AccountFactory(name="Initech LLC", territory=world.north)
    now = timezone.now()

    def surge(account, topic, z):
        TopicSurge.objects.create(account=account, topic=topic, label=topic, recent_count=9, baseline_mean=1.0,
                                  baseline_std=1.0, z=z, surging=z >= 2, computed_at=now)  # fmt: skip

    surge(survivor, "crm", 3.0)
    surge(loser, "crm", 5.0)
    surge(loser, "erp", 0.5)
    Lookalike.objects.create(account=survivor, score=70, neighbours=[], traits=[], computed_at=now)
    Lookalike.objects.create(account=loser, score=40, neighbours=[], traits=[], computed_at=now)
    OpportunityFactory(account=loser, is_won=True, is_closed=True, stage="Won", closed_on=dt.date.today())
    PendingLookalike.objects.all().delete()

    record = account_merge(survivor=survivor, loser=loser, by=world.admin)

    topics = dict(TopicSurge.objects.filter(account=survivor).values_list("topic", "z"))
    assert topics == {"crm": 3.0, "erp": 0.5}
    assert TopicSurge.objects.count() == 2
    assert list(Lookalike.objects.values_list("account_id", "score")) == [(survivor.pk, 70)]
    assert record.moved["topic surges"] == {"moved": 1, "merged": 1, "replaced": 0}
    assert set(PendingLookalike.objects.values_list("account_id", flat=True)) == {survivor.pk}
