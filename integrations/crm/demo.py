"""The demo's CRM: a connection whose base URL is `demo:` syncs against a fake HubSpot started in this process on
first use (integrations/crm/fake_hubspot.py), holding a few dozen companies with contacts, deals and activities. No
network, nothing to install: `make demo` shows a sync working."""

from __future__ import annotations

import datetime as dt
import threading

DEMO_URL = "demo:"
DEMO_COMPANIES = 40
_lock = threading.Lock()
_server = None

INDUSTRIES = ["Software", "Financial Services", "Manufacturing", "Healthcare", "Retail"]
COUNTRIES = ["United States", "United Kingdom", "Germany", "France", "Canada"]
STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "closedwon", "closedlost"]


def demo_server():
    """The demo's fake HubSpot, started and filled once per process."""
    global _server
    with _lock:
        if _server is None:
            from .fake_hubspot import FakeHubSpot

            server = FakeHubSpot()
            server.start()
            _fill(server)
            _server = server
        return _server


def _fill(server) -> None:
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    for n in range(1, DEMO_COMPANIES + 1):
        company = server.add(
            "account",
            {
                "name": f"Northwind Demo {n:02d}",
                "domain": f"northwind-demo-{n:02d}.example",
                "industry": INDUSTRIES[n % len(INDUSTRIES)],
                "numberofemployees": 40 * n,
                "annualrevenue": 750_000 * n,
                "country": COUNTRIES[n % len(COUNTRIES)],
                "city": "Springfield",
                "lifecyclestage": "opportunity" if n % 3 == 0 else "lead",
            },
            modified_at=start + dt.timedelta(minutes=n),
        )
        server.add(
            "contact",
            {"firstname": "Jordan", "lastname": f"Buyer {n:02d}", "email": f"jordan@northwind-demo-{n:02d}.example",
             "jobtitle": "VP Sales"},
            account_crm_id=company,
        )  # fmt: skip
        if n % 2 == 0:
            server.add(
                "opportunity",
                {"dealname": f"Northwind Demo {n:02d} expansion", "amount": 12_000 * n,
                 "dealstage": STAGES[n % len(STAGES)], "closedate": "2026-03-31T00:00:00.000Z"},
                account_crm_id=company,
            )  # fmt: skip
        for i, kind in enumerate(("meeting", "call", "email")[: 1 + n % 3]):
            when = (start + dt.timedelta(days=n % 20, hours=i)).isoformat().replace("+00:00", "Z")
            server.add("activity", {"engagement_type": kind, "hs_timestamp": when}, account_crm_id=company)
