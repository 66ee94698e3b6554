"""A small set of closed deals with one planted effect, for the recalibration's command and API: logistics accounts
win four deals in five, the others one in five; size, revenue, country and founding year are noise."""

import datetime as dt
import random

from accounts.models import Account, Opportunity
from segmentation.models import ScoringModel

from ..factories import ICPFactory, ScoringModelFactory

INDUSTRIES = ["logistics", "retail", "software", "media", "energy"]
PLANTED = "logistics"


def active_model() -> ScoringModel:
    """An active version scoring on the factory ICP."""
    icp = ICPFactory()
    return ScoringModelFactory(
        icp=icp, status=ScoringModel.Status.ACTIVE, criteria=icp.criteria, exclusions=icp.exclusions
    )


def planted_deals(*, accounts: int = 600, deals_each: int = 1, seed: int = 11) -> int:
    """`accounts` accounts spread evenly over INDUSTRIES, each with `deals_each` closed deals; returns the deals."""
    rng = random.Random(seed)
    created = Account.objects.bulk_create(
        Account(
            name=f"Recalibrated {i}",
            external_id=f"RC-{i}",
            industry=INDUSTRIES[i % len(INDUSTRIES)],
            employee_count=rng.randint(10, 20_000),
            annual_revenue=rng.randint(1, 5_000) * 100_000,
            country=rng.choice(["United States", "Germany", "France"]),
            year_founded=rng.randint(1950, 2022),
        )
        for i in range(accounts)
    )
    start = dt.date(2024, 1, 1)
    deals = []
    for account in created:
        p = 0.8 if account.industry == PLANTED else 0.2
        for _ in range(deals_each):
            won = rng.random() < p
            deals.append(
                Opportunity(
                    account=account,
                    stage="Won" if won else "Lost",
                    is_closed=True,
                    is_won=won,
                    closed_on=start + dt.timedelta(days=rng.randrange(365)),
                )
            )
    Opportunity.objects.bulk_create(deals, batch_size=2000)
    return len(deals)
