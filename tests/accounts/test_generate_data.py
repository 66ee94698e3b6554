"""generate_data: exact counts, valid rows, the same rows for the same seed, refused twice for one seed."""

import datetime as dt
import hashlib

import pytest
from django.core.management import CommandError, call_command

from accounts.generate import PERSONAS, generate_data
from accounts.models import Account, Contact, Signal
from core.models import Job

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def digest() -> str:
    h = hashlib.sha256()
    for row in Account.objects.order_by("external_id").values_list(
        "external_id", "name", "domain", "industry", "employee_count", "annual_revenue", "country", "region",
        "year_founded", "technologies", "is_customer",
    ):  # fmt: skip
        h.update(repr(row).encode())
    for row in Contact.objects.order_by("external_id").values_list(
        "external_id", "account__external_id", "name", "email", "persona"
    ):
        h.update(repr(row).encode())
    for row in Signal.objects.order_by(
        "account__external_id", "occurred_at", "kind", "topic", "contact__external_id"
    ).values_list("account__external_id", "contact__external_id", "kind", "topic", "occurred_at"):
        h.update(repr(row).encode())
    return h.hexdigest()


def test_counts_and_validity():
    report = generate_data(accounts=200, signals=2000, contacts=400, seed=3, now=NOW, batch=77)
    assert report.rows == {"accounts": 200, "contacts": 400, "signals": 2000}
    assert (Account.objects.count(), Contact.objects.count(), Signal.objects.count()) == (200, 400, 2000)
    assert Account.objects.filter(external_id__startswith="gen-3-").count() == 200
    assert set(Contact.objects.values_list("persona", flat=True)) <= set(PERSONAS)
    assert all(isinstance(t, list) for t in Account.objects.values_list("technologies", flat=True))
    assert Contact.objects.values("account").distinct().count() == 200  # every account has its two contacts
    oldest = NOW - dt.timedelta(days=365)
    assert not Signal.objects.exclude(occurred_at__gt=oldest, occurred_at__lte=NOW).exists()
    linked = Signal.objects.filter(contact__isnull=False).select_related("contact")
    assert linked.exists()
    assert all(s.contact.account_id == s.account_id for s in linked)


def test_same_seed_same_rows():
    generate_data(accounts=150, signals=1500, contacts=300, seed=9, now=NOW, batch=1000)
    first = digest()
    Account.objects.all().delete()
    generate_data(accounts=150, signals=1500, contacts=300, seed=9, now=NOW, batch=1000)
    assert digest() == first
    Account.objects.all().delete()
    generate_data(accounts=150, signals=1500, contacts=300, seed=10, now=NOW, batch=1000)
    assert digest() != first


def test_command_records_a_job_and_refuses_a_loaded_seed(capsys):
    call_command(
        "generate_data",
        "--accounts",
        "50",
        "--signals",
        "500",
        "--contacts",
        "100",
        "--seed",
        "4",
        "--reference-date",
        "2026-03-01",
    )
    out = capsys.readouterr().out
    assert "signals: 500 rows in" in out and "rows/s" in out
    job = Job.objects.get(kind="generate")
    assert (job.status, job.done, job.total) == ("succeeded", 650, 650)
    with pytest.raises(CommandError, match="Data for seed 4 is already loaded"):
        call_command("generate_data", "--accounts", "5", "--seed", "4")
    with pytest.raises(CommandError, match="need accounts"):
        call_command("generate_data", "--accounts", "0", "--signals", "5", "--seed", "5")
