"""The real CRM export, loaded through the importer, gives exactly what the files hold."""

import csv

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from accounts.imports import import_records
from accounts.models import Account, Contact, Opportunity, Signal
from core.models import Job
from demo.loader import DATASET, load_demo
from territories.models import Membership, Territory


def blank_account_lines() -> list[int]:
    """Computed independently from the CSV: the line numbers of deals with no account."""
    with (DATASET / "sales_pipeline.csv").open(newline="") as f:
        return [i + 2 for i, row in enumerate(csv.DictReader(f)) if not row["account"].strip()]


def state() -> dict:
    return {
        "accounts": sorted(
            Account.objects.values_list(
                "external_id",
                "name",
                "industry",
                "annual_revenue",
                "parent_id",
                "owner_id",
                "territory_id",
                "updated_at",
            )
        ),
        "opportunities": sorted(
            Opportunity.objects.values_list(
                "external_id", "stage", "amount", "is_won", "closed_on", "owner_id", "updated_at"
            )
        ),
        "contacts": sorted(Contact.objects.values_list("external_id", "email", "persona", "updated_at")),
        "signals": sorted(Signal.objects.values_list("external_id", "kind", "occurred_at")),
        "users": sorted(User.objects.values_list("username", "first_name", "last_name")),
        "memberships": sorted(Membership.objects.values_list("user__username", "territory__name", "role", "is_active")),
    }


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    """The demo, loaded once for the tests of this module, in a transaction rolled back after them: each test runs
    in its own savepoint inside it (as Django's setUpTestData), so what a test changes is undone after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo(password="a-demo-password", out=lambda *_: None)
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_loaded, db):
    return demo_loaded


def test_real_dataset_counts(demo):
    reps = User.objects.filter(groups__name="rep", memberships__role="rep").exclude(username="rep").distinct()
    managers = User.objects.filter(groups__name="manager").exclude(username="manager")
    assert Account.objects.count() == 85
    assert reps.count() == 35
    assert managers.count() == 6
    assert Territory.objects.count() == 3
    assert set(Territory.objects.values_list("name", flat=True)) == {"Central", "East", "West"}
    assert Opportunity.objects.count() == 7375
    assert Account.objects.filter(parent__isnull=False).count() == 15
    # Every agent is a rep in exactly one regional territory, managed by their manager.
    assert Membership.objects.filter(role="rep", user__in=reps).count() == 35
    dustin = User.objects.get(username="dustin.brinkmann")
    assert set(Membership.objects.filter(user=dustin).values_list("territory__name", "role")) == {
        ("Central", "manager")
    }


def test_rows_without_an_account_are_reported_by_line(demo):
    job = Job.objects.filter(kind="import", params__filename="sales_pipeline.csv").get()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["summary"] == {
        "kind": "opportunities",
        "dry_run": False,
        "rows": 8800,
        "created": 7375,
        "updated": 0,
        "unchanged": 0,
        "failed": 1425,
    }
    lines = [line for line, _ in job.result["errors"]]
    assert lines == blank_account_lines()
    assert len(lines) == 1425
    assert {reason for _, reason in job.result["errors"]} == {"account is required but empty"}


def test_real_values_are_kept_as_they_are(demo):
    acme = Account.objects.get(external_id="Acme Corporation")
    assert acme.industry == "technolgy"  # misspelt in the source; kept, not hidden
    assert str(acme.annual_revenue) == "1100040000.00"  # revenue is in millions in the file
    assert acme.employee_count == 2822 and acme.year_founded == 1996 and acme.country == "United States"
    assert Opportunity.objects.filter(product="GTXPro").exists()
    won = Opportunity.objects.get(external_id="1C1I7A6R")
    assert (won.is_closed, won.is_won, str(won.amount), won.owner.get_full_name()) == (
        True,
        True,
        "1054.00",
        "Moses Frase",
    )


def counts() -> dict[str, int]:
    """The number of rows of every table."""
    return {model._meta.db_table: model.objects.count() for model in apps.get_models()}


def test_reloading_the_demo_changes_nothing(demo):
    before, rows = state(), counts()
    load_demo(password="a-demo-password", out=lambda *_: None)
    assert state() == before
    assert counts() == rows  # not even a job: the export's files were imported before


def test_loading_twice_after_an_import_changes_nothing(demo):
    """An import adds accounts (one without an external id), contacts and signals of its own: the next load makes
    nothing for them, and a second load changes nothing at all."""
    import_records(
        kind="accounts",
        records=[
            {"name": "Zeta Labs", "external_id": "Zeta Labs", "industry": "software", "employee_count": 2000},
            {"name": "Aardvark", "domain": "aardvark.example", "country": "France"},
        ],
    )
    import_records(
        kind="contacts", records=[{"account": "Zeta Labs", "name": "Ana Lopez", "email": "ana@zeta.example"}]
    )
    import_records(
        kind="signals",
        records=[{"account": "Acme Corporation", "kind": "web_visit", "occurred_at": "2026-11-01T10:00:00Z"}],
    )
    made = counts()
    load_demo(password="a-demo-password", out=lambda *_: None)
    after_first = counts()
    for table in ("accounts_contact", "accounts_signal", "accounts_account", "accounts_opportunity"):
        assert after_first[table] == made[table], table  # nothing generated for the imported accounts
    assert not Contact.objects.filter(account__external_id="Zeta Labs", external_id__startswith="demo-").exists()
    load_demo(password="a-demo-password", out=lambda *_: None)
    assert counts() == after_first


def test_demo_people_have_email_addresses(demo):
    managers = User.objects.filter(memberships__role="manager").distinct()
    assert managers.count() == 7  # the export's six and the demo manager
    assert all(m.email for m in managers), [m.username for m in managers if not m.email]
    assert User.objects.get(username="dustin.brinkmann").email == "dustin.brinkmann@maven-demo.example"
    assert not User.objects.filter(email="").filter(memberships__isnull=False).exists()
    # An address someone set is kept.
    User.objects.filter(username="manager").update(email="boss@example.com")
    load_demo(password="a-demo-password", out=lambda *_: None)
    assert User.objects.get(username="manager").email == "boss@example.com"


def test_generated_contacts_and_signals_are_deterministic(demo):
    contacts = sorted(Contact.objects.values_list("external_id", "name", "email", "title", "persona"))
    signals = sorted(Signal.objects.values_list("external_id", "kind", "topic", "occurred_at", "contact__external_id"))
    assert set(Contact.objects.values_list("persona", flat=True)) >= {
        "economic_buyer",
        "champion",
        "technical_evaluator",
    }
    Contact.objects.all().delete()
    Signal.objects.all().delete()
    load_demo(password="a-demo-password", out=lambda *_: None)
    assert sorted(Contact.objects.values_list("external_id", "name", "email", "title", "persona")) == contacts
    assert (
        sorted(Signal.objects.values_list("external_id", "kind", "topic", "occurred_at", "contact__external_id"))
        == signals
    )


def test_demo_logins_work_and_see_their_scope(demo, client):
    # The login rate limiter (axes) needs a request to know who is trying.
    assert client.login(request=HttpRequest(), username="rep", password="a-demo-password")
    rep = User.objects.get(username="rep")
    assert Membership.objects.filter(user=rep, territory__name="Central", role="rep").exists()
    assert client.login(request=HttpRequest(), username="manager", password="a-demo-password")
    assert client.login(request=HttpRequest(), username="admin", password="a-demo-password")


def test_an_assignment_run_on_the_demo_keeps_every_account_in_place(demo):
    from territories.services import assignment_plan_all

    moves = []
    plan = assignment_plan_all(on_moves=moves.extend)
    assert plan.considered == 85
    assert moves == [] and plan.move_count == 0
    assert plan.unassigned == Account.objects.filter(owner__isnull=True).count()


def test_demo_accounts_are_spread_over_each_regions_reps(demo):
    from django.db.models import Count

    for territory in Territory.objects.all():
        reps = Membership.objects.filter(territory=territory, role="rep", is_active=True).values_list(
            "user_id", flat=True
        )
        owned = dict(
            Account.objects.filter(territory=territory)
            .values("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        )
        counts = [owned.get(rep, 0) for rep in reps]
        assert sum(counts) == Account.objects.filter(territory=territory).count()
        assert max(counts) - min(counts) <= 1, (territory.name, counts)
    assert Account.objects.filter(owner__username="rep").exists()  # the demo rep has accounts to open
    assert Account.objects.filter(territory__isnull=True).count() == 0
