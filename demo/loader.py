"""The demo data: the real Maven CRM export through the importer, plus deterministic contacts and signals."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.imports import ImportReport, import_records
from accounts.models import Account, Contact, Opportunity, Signal
from accounts.services import import_job_create, import_job_run
from core.roles import ADMIN, MANAGER, REP
from core.services import user_set_role
from insights.snapshots import kpi_snapshot_take
from territories.models import Membership, Territory
from territories.services import assignment_apply, membership_ensure, user_create

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


def load_maven(*, stdout=None) -> list[ImportReport | str]:
    """Users, accounts and opportunities through the importer, each as a job."""
    results = []
    for kind, filename, mapping in MAVEN_IMPORTS:
        job = import_job_create(kind=kind, source=DATASET / filename, filename=filename, mapping=mapping)
        import_job_run(job=job)
        job.refresh_from_db()
        if job.status != job.Status.SUCCEEDED:
            raise RuntimeError(f"Import of {filename} failed: {job.error}")
        results.append((filename, job))
    return results


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
    """Two to six contacts per account with personas; the same every time for the same accounts and seed."""
    rng = random.Random(seed)  # nosec B311  # seeded on purpose: the same demo data every run, not security
    personas = list(PERSONA_TITLES)
    records = []
    for external_id, name in Account.objects.order_by("external_id").values_list("external_id", "name"):
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
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


def demo_signals(*, seed: int = 11, today: dt.date | None = None) -> list[dict]:
    """Engagement and intent over the last 180 days, dated from `today` (UTC), so scores are fresh in the demo."""
    rng = random.Random(seed)  # nosec B311  # seeded on purpose: the same demo data every run, not security
    today = today or timezone.now().date()
    anchor = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC)
    kinds = [k for k, _ in SIGNAL_KINDS]
    weights = [w for _, w in SIGNAL_KINDS]
    contacts = defaultdict(list)
    for account_ext, contact_ext in Contact.objects.filter(external_id__startswith="demo-contact-").values_list(
        "account__external_id", "external_id"
    ):
        contacts[account_ext].append(contact_ext)
    records = []
    for external_id in Account.objects.order_by("external_id").values_list("external_id", flat=True):
        activity = rng.choice([0, 2, 5, 10, 20, 40])
        for n in range(activity):
            kind = rng.choices(kinds, weights)[0]
            minutes = rng.randint(0, 180 * 24 * 60)
            linked = contacts[external_id] and kind in {
                "web_visit",
                "content_download",
                "email_click",
                "meeting",
                "event_attended",
            }
            records.append(
                {
                    "account": external_id,
                    "contact": rng.choice(sorted(contacts[external_id])) if linked else None,
                    "kind": kind,
                    "topic": rng.choice(TOPICS) if kind in {"content_download", "intent_surge", "web_visit"} else "",
                    "occurred_at": anchor - dt.timedelta(minutes=minutes),
                    "source": "demo",
                    "external_id": f"demo-signal-{external_id}-{n}",
                }
            )
    # A few accounts light up in the last three days (meetings and third-party intent): the demo shows surges, and
    # the demo rep's own accounts among them, so their queue has handoffs to accept or reject.
    lit = set(rng.sample(sorted(contacts), 3))
    lit |= set(Account.objects.filter(owner__username="rep").values_list("external_id", flat=True))
    for external_id in sorted(lit & set(contacts)):
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
        user.set_password(password)
        user.save(update_fields=["password"])
        if role in (MANAGER, REP):
            membership_ensure(user=user, territory=central, role=role)
        created.append((username, role))
    return created


def load_demo(*, password: str = DEMO_PASSWORD_DEFAULT, out=print) -> dict:
    for filename, job in load_maven():
        summary = job.result["summary"]
        out(
            f"{filename}: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged, {summary['failed']} not imported (job #{job.pk})"
        )
    users = demo_users(password=password)
    moved = place_demo_accounts()
    out(f"{moved} accounts routed to the region of their main agent and a rep there (round robin).")
    contacts = import_records(kind="contacts", records=demo_contacts())
    out(f"Contacts: {contacts.created} created, {contacts.unchanged + contacts.updated} already there.")
    signals = import_records(kind="signals", records=demo_signals())
    out(f"Signals: {signals.created} created, {signals.unchanged + signals.updated} already there.")
    for report in (contacts, signals):
        if report.errors:
            raise RuntimeError(f"Generated {report.kind} were refused: {report.errors[:3]}")
    demo_scoring(out=out)

    out(f"KPI snapshot of today: {kpi_snapshot_take()} figures (the dashboard's trends start here).")
    return {"users": users, "password": password, "signals": Signal.objects.count()}
