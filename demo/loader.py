"""The demo data: the real Maven CRM export through the importer, plus deterministic contacts and signals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.changes import RESCORE_TASK, ROUTE_TASK
from accounts.imports import ImportReport, import_file, import_records
from accounts.models import Account, Contact, Opportunity, Signal
from accounts.services import import_job_create, import_job_run
from accounts.topics import topic_surges_refresh
from core.models import Job
from core.queues import wake
from core.roles import ADMIN, MANAGER, REP
from core.services import user_set_role
from insights.snapshots import kpi_snapshot_take
from integrations.crm.demo import DEMO_URL
from integrations.crm.services import connection_save
from integrations.models import CrmConnection
from territories.models import Membership, Territory
from territories.services import assignment_apply, membership_ensure, user_create

from .history import backfill_snapshots
from .scoring import demo_scoring

DATASET = Path(settings.BASE_DIR) / "data" / "maven-crm"

# Column mappings for the Maven CRM files: the importer keeps their real column names.
MAVEN_IMPORTS = [
    ("users", "sales_teams.csv", {"sales_agent": ["name"], "regional_office": ["territory"]}),
    (
        "accounts",
        "accounts.csv",
        {
            "account": ["name", "external_id"],
            "sector": ["industry"],
            "year_established": ["year_founded"],
            "revenue": ["annual_revenue_millions"],
            "employees": ["employee_count"],
            "office_location": ["country"],
            "subsidiary_of": ["parent"],
        },
    ),
    (
        "opportunities",
        "sales_pipeline.csv",
        {
            "opportunity_id": ["external_id"],
            "sales_agent": ["owner"],
            "deal_stage": ["stage"],
            "engage_date": ["engaged_on"],
            "close_date": ["closed_on"],
            "close_value": ["amount"],
        },
    ),
]

PERSONA_TITLES = {
    Contact.Persona.ECONOMIC_BUYER: ["CFO", "VP Finance", "COO"],
    Contact.Persona.CHAMPION: ["Director of Operations", "Head of Sales Ops", "VP Sales"],
    Contact.Persona.TECHNICAL_EVALUATOR: ["IT Manager", "Solutions Architect", "CTO"],
    Contact.Persona.USER: ["Sales Manager", "Account Executive", "Analyst"],
    Contact.Persona.OTHER: ["Office Manager", "Procurement Specialist"],
}
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira", "Liam"]
LAST_NAMES = ["Novak", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka", "Uddin", "Varga", "Weber"]
SIGNAL_KINDS = [
    ("web_visit", 40),
    ("content_download", 15),
    ("email_click", 20),
    ("event_attended", 5),
    ("meeting", 6),
    ("intent_surge", 6),
    ("job_posting", 4),
    ("funding_round", 1),
    ("tech_install", 2),
    ("leadership_change", 1),
]
TOPICS = ["pricing", "integrations", "security", "analytics", "onboarding", "roi"]
DEMO_PASSWORD_DEFAULT = "revops-demo-2026"  # nosec B105  # the local demo's printed login; DEMO_PASSWORD overrides it


DEMO_EMAIL_DOMAIN = "maven-demo.example"  # a reserved name: the demo's notifications reach nobody


def _imported_before(filename: str) -> bool:
    return Job.objects.filter(
        kind=Job.Kind.IMPORT, status=Job.Status.SUCCEEDED, params__filename=filename, params__dry_run=False
    ).exists()


def load_maven() -> list[tuple[str, Job | None, dict]]:
    """Users, accounts and opportunities through the importer: the first time each as a job (the jobs page shows it,
    with its row errors by line), then straight through the importer, which puts back anything missing and leaves
    the rest as it is, so loading again adds no job. Returns (filename, job or None, summary) per file."""
    results = []
    for kind, filename, mapping in MAVEN_IMPORTS:
        if _imported_before(filename):
            report = import_file(kind=kind, path=DATASET / filename, mapping=mapping)
            results.append((filename, None, report.as_dict()["summary"]))
            continue
        job = import_job_create(kind=kind, source=DATASET / filename, filename=filename, mapping=mapping)
        import_job_run(job=job)
        job.refresh_from_db()
        if job.status != job.Status.SUCCEEDED:
            raise RuntimeError(f"Import of {filename} failed: {job.error}")
        results.append((filename, job, job.result["summary"]))
    return results


def dataset_accounts() -> list[str]:
    """The external ids of the export's accounts (their names): the accounts the demo generates contacts and signals
    for. Accounts added since (an import, the API) get none, so they change nothing of what the demo generates."""
    with (DATASET / "accounts.csv").open(newline="", encoding="utf-8") as f:
        names = sorted({row["account"].strip() for row in csv.DictReader(f) if row["account"].strip()})
    return list(
        Account.objects.filter(external_id__in=names).order_by("external_id").values_list("external_id", flat=True)
    )


def _rng(seed: int, key: str) -> random.Random:
    """One generator per account: what the demo makes for an account never depends on the other accounts."""
    return random.Random(f"{seed}:{key}")  # nosec B311  # seeded on purpose: the same demo data every run


def _missing(model, records: list[dict]) -> list[dict]:
    """The generated records not loaded yet: those already there stay as they are (dated the day they were made)."""
    have = set(
        model.objects.filter(external_id__in=[r["external_id"] for r in records]).values_list("external_id", flat=True)
    )
    return [r for r in records if r["external_id"] not in have]


def place_demo_accounts() -> int:
    """Each account belongs to the region of the agent with the most deals on it (ties: by name).

    The export has no territory rules, so each regional territory names its accounts; owners are then
    given by the product's own routing (round robin among the region's reps), so a second load, or any
    assignment run, keeps everything in place. Returns the number of accounts that moved.
    """

    deals: dict[int, Counter] = defaultdict(Counter)
    for account_id, owner_id in Opportunity.objects.filter(owner__isnull=False).values_list("account_id", "owner_id"):
        deals[account_id][owner_id] += 1
    agents = User.objects.filter(opportunities__isnull=False).distinct()
    territory_of = dict(
        Membership.objects.filter(role=Membership.Role.REP, is_active=True, user__in=agents).values_list(
            "user_id", "territory_id"
        )
    )
    names = dict(User.objects.values_list("pk", "username"))
    named: dict[int, list[int]] = defaultdict(list)
    for account_id, counts in deals.items():
        top_agent = min(counts.items(), key=lambda item: (-item[1], names[item[0]]))[0]
        if territory_of.get(top_agent):
            named[territory_of[top_agent]].append(account_id)
    for territory in Territory.objects.filter(pk__in=set(territory_of.values())):
        territory.named_accounts.set(named.get(territory.pk, []))
    _, result = assignment_apply(user=None)
    return result.moved


def demo_contacts(*, seed: int = 7) -> list[dict]:
    """Two to six contacts per account of the export, with personas; the same every time for the same seed."""
    personas = list(PERSONA_TITLES)
    names = dict(Account.objects.filter(external_id__in=dataset_accounts()).values_list("external_id", "name"))
    records = []
    for external_id in sorted(names):
        rng = _rng(seed, external_id)
        slug = "".join(ch for ch in names[external_id].lower() if ch.isalnum())
        for n in range(rng.randint(2, 6)):
            persona = personas[n] if n < 3 else rng.choice(personas)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            records.append(
                {
                    "account": external_id,
                    "external_id": f"demo-contact-{slug}-{n}",
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}.{n}@{slug}.example".lower(),
                    "title": rng.choice(PERSONA_TITLES[persona]),
                    "persona": persona,
                }
            )
    return records


LINKED_KINDS = {"web_visit", "content_download", "email_click", "meeting", "event_attended"}


def demo_signals(*, seed: int = 11, today: dt.date | None = None) -> list[dict]:
    """Engagement and intent over the last 180 days, dated from `today` (UTC), so scores are fresh in the demo."""
    today = today or timezone.now().date()
    anchor = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC)
    kinds = [k for k, _ in SIGNAL_KINDS]
    weights = [w for _, w in SIGNAL_KINDS]
    accounts = dataset_accounts()
    contacts = defaultdict(list)
    for account_ext, contact_ext in Contact.objects.filter(
        external_id__startswith="demo-contact-", account__external_id__in=accounts
    ).values_list("account__external_id", "external_id"):
        contacts[account_ext].append(contact_ext)
    records = []
    for external_id in accounts:
        rng = _rng(seed, external_id)
        known = sorted(contacts[external_id])
        for n in range(rng.choice([0, 2, 5, 10, 20, 40])):
            kind = rng.choices(kinds, weights)[0]
            minutes = rng.randint(0, 180 * 24 * 60)
            contact = rng.choice(known) if known and kind in LINKED_KINDS else None
            records.append(
                {
                    "account": external_id,
                    "contact": contact,
                    "kind": kind,
                    "topic": rng.choice(TOPICS) if kind in {"content_download", "intent_surge", "web_visit"} else "",
                    "occurred_at": anchor - dt.timedelta(minutes=minutes),
                    "source": "demo",
                    "external_id": f"demo-signal-{external_id}-{n}",
                }
            )
    # A few accounts light up in the last three days (meetings and third-party intent): the demo shows surges, and
    # the demo rep's own accounts among them, so their queue has handoffs to accept or reject.
    lit = set(_rng(seed, "surges").sample(accounts, min(3, len(accounts))))
    lit |= set(
        Account.objects.filter(owner__username="rep", external_id__in=accounts).values_list("external_id", flat=True)
    )
    for external_id in sorted(lit & set(contacts)):
        rng = _rng(seed, f"surge:{external_id}")
        for n, kind in enumerate(("meeting", "meeting", "intent_surge", "intent_surge")):
            records.append(
                {
                    "account": external_id,
                    "contact": sorted(contacts[external_id])[0] if kind == "meeting" else None,
                    "kind": kind,
                    "topic": "pricing" if kind == "intent_surge" else "",
                    "occurred_at": anchor - dt.timedelta(minutes=rng.randint(0, 3 * 24 * 60)),
                    "source": "demo",
                    "external_id": f"demo-surge-{external_id}-{n}",
                }
            )
    return records


@transaction.atomic
def demo_users(*, password: str) -> list[tuple[str, str]]:
    """Logins `admin`, `manager` (manages Central) and `rep` (a rep in Central), with the given password."""
    central = Territory.objects.get(name="Central")
    created = []
    for username, role in (("admin", ADMIN), ("manager", MANAGER), ("rep", REP)):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, role=role, first_name=f"Demo {role}", last_name="")
        else:
            user_set_role(user=user, role=role)
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        if role in (MANAGER, REP):
            membership_ensure(user=user, territory=central, role=role)
        created.append((username, role))
    return created


def demo_emails() -> ImportReport:
    """An e-mail address for every demo person who has none (the export's agents and managers, the demo logins), so
    handoffs reach their owner and breaches their manager; an address someone set is kept."""
    people = User.objects.filter(email="").filter(memberships__isnull=False) | User.objects.filter(
        email="", username__in=["admin", "manager", "rep"]
    )
    records = [
        {"username": username, "email": f"{username}@{DEMO_EMAIL_DOMAIN}"}
        for username in sorted(set(people.values_list("username", flat=True)))
    ]
    return import_records(kind="users", records=records)


@contextmanager
def tasks_here() -> Iterator[None]:
    """Run every task the load wakes in this process and wait for it, as without a broker: with PostgreSQL and
    Redis the worker starts only once the demo is loaded, and the demo must be complete (scored, with spend potential
    and trends) when its first page is opened."""
    conf = current_app.conf
    before = conf.task_always_eager
    conf.task_always_eager = True
    try:
        yield
    finally:
        conf.task_always_eager = before


@contextmanager
def quiet(verbose: bool) -> Iterator[None]:
    """Unless verbose: no log lines of the tasks and jobs the load runs, nor the e-mails they send to the console
    (the handoffs of the demo's first MQAs). Errors still show."""
    if verbose:
        yield
        return
    logging.disable(logging.WARNING)
    try:
        with redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def load_demo(
    *, password: str = DEMO_PASSWORD_DEFAULT, out: Callable[[str], None] = print, verbose: bool = True
) -> dict:
    """Load the demo, complete: when this returns every account is routed and scored, spend potential is computed
    and the KPI trends have their points. Loading again changes nothing."""
    with quiet(verbose), tasks_here():
        return _load(password=password, out=out)


def _load(*, password: str, out: Callable[[str], None]) -> dict:
    changed = False
    for filename, job, summary in load_maven():
        changed |= bool(summary["created"] or summary["updated"])
        out(
            f"{filename}: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['failed']} not imported"
            + (f" (job #{job.pk})" if job else " (imported before: no new job)")
        )
    users = demo_users(password=password)
    emails = demo_emails()
    out(f"E-mail addresses: {emails.updated} given, to every demo person who had none.")
    moved = place_demo_accounts()
    changed |= bool(moved)
    out(f"{moved} accounts routed to the region of their main agent and a rep there (round robin).")
    contacts = import_records(kind="contacts", records=_missing(Contact, demo_contacts()))
    out(f"Contacts: {contacts.created} created.")
    signals = import_records(kind="signals", records=_missing(Signal, demo_signals()))
    out(f"Signals: {signals.created} created.")
    for report in (emails, contacts, signals):
        if report.errors:
            raise RuntimeError(f"Generated {report.kind} were refused: {report.errors[:3]}")
    changed |= bool(contacts.created or signals.created)
    topics = topic_surges_refresh()["summary"]
    out(f"Intent topics: {topics['topics']} account topics this week, {topics['surging']} surging.")
    # Work queued by the changes above (accounts to route or rescore) is done before the scores are read.
    wake(ROUTE_TASK)
    wake(RESCORE_TASK)
    demo_scoring(out=out, refresh_potential=changed)
    days = backfill_snapshots()
    out(f"KPI snapshots: {days} past days back-filled from the demo's history; today's: {kpi_snapshot_take()} figures.")
    out(demo_crm_connection())
    return {"users": users, "password": password, "signals": Signal.objects.count()}


DEMO_CRM_NAME = "HubSpot (demo)"


def demo_crm_connection() -> str:
    """A HubSpot connection to the demo CRM (integrations/crm/demo.py: a fake HubSpot started in-process when a sync
    first needs it), with write-back on and its first push waiting for confirmation."""
    if not CrmConnection.objects.filter(name=DEMO_CRM_NAME).exists():
        connection_save(vendor="hubspot", name=DEMO_CRM_NAME, values={"base_url": DEMO_URL}, push_enabled=True)
    return (
        f"CRM: “{DEMO_CRM_NAME}” connects to a demo HubSpot in this process: press Sync now on /integrations/crm/ "
        "or run `manage.py crm_sync hubspot`."
    )
