import datetime as dt

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity, Signal
from handoffs.models import SlaPolicy
from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
from segmentation.models import ICP, ScoringModel
from territories.models import Membership, Territory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: transactional tests flush the groups the data migration made.
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Territory {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory, role="rep")
    territory = factory.SubFactory(TerritoryFactory)
    role = Membership.Role.REP


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    external_id = factory.Sequence(lambda n: f"ACC-{n}")
    domain = factory.Sequence(lambda n: f"account{n}.example.com")
    industry = "software"
    employee_count = 500
    country = "United States"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    persona = Contact.Persona.CHAMPION


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal

    account = factory.SubFactory(AccountFactory)
    kind = "web_visit"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    external_id = factory.Sequence(lambda n: f"SIG-{n}")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    external_id = factory.Sequence(lambda n: f"OPP-{n}")
    stage = "Won"
    is_closed = True
    is_won = True
    amount = 1000


class ICPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ICP

    name = factory.Sequence(lambda n: f"ICP {n}")
    criteria = factory.LazyFunction(
        lambda: [
            {
                "group": "Industry",
                "attribute": "industry",
                "operator": "in",
                "value": ["software", "fintech"],
                "points": 30,
            },
            {"group": "Size", "attribute": "employee_count", "operator": "between", "value": [200, 2000], "points": 40},
            {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": 2001, "points": 20},
            {"group": "Geo", "attribute": "country", "operator": "eq", "value": "United States", "points": 30},
        ]
    )
    exclusions = factory.LazyFunction(lambda: [{"attribute": "is_customer", "operator": "eq", "value": True}])


class ScoringModelFactory(factory.django.DjangoModelFactory):
    """A draft; publish it with segmentation.services.model_publish."""

    class Meta:
        model = ScoringModel

    name = "Test model"
    version = factory.Sequence(lambda n: n + 1)
    icp = factory.SubFactory(ICPFactory)
    signal_rules = factory.LazyFunction(lambda: [dict(r) for r in STANDARD_SIGNAL_RULES])
    required_personas = factory.LazyFunction(lambda: list(STANDARD_PERSONAS))


class AccountScoreFactory(factory.django.DjangoModelFactory):
    """A stored score as the scoring writes it; tests set the numbers they need."""

    class Meta:
        model = "segmentation.AccountScore"

    account = factory.SubFactory(AccountFactory)
    model = factory.SubFactory(ScoringModelFactory)
    fit = 60.0
    signal = 40.0
    coverage = 0.5
    unified = 56.0
    tier = "tier_2"
    tier_since = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=20))
    as_of = factory.LazyFunction(timezone.now)
    computed_at = factory.LazyAttribute(lambda score: score.as_of)


class TierChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "segmentation.TierChange"

    account = factory.SubFactory(AccountFactory)
    model = factory.SubFactory(ScoringModelFactory)
    from_tier = "tier_3"
    to_tier = "tier_2"
    reason = "Tier 2: unified 56 >= 55 and fit 60 >= 50."
    fit = 60.0
    signal = 40.0
    unified = 56.0
    at = factory.LazyFunction(timezone.now)


class MQAFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "segmentation.MQA"

    account = factory.SubFactory(AccountFactory)
    model = factory.SubFactory(ScoringModelFactory)
    qualified_at = factory.LazyFunction(timezone.now)
    tier = "tier_2"
    fit = 60.0
    signal = 40.0
    coverage = 0.5
    unified = 56.0
    status = "open"


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    """A tier's policy; the data migration already made one per tier, so an existing one is reused."""

    class Meta:
        model = SlaPolicy
        django_get_or_create = ("tier",)

    tier = "tier_1"
    accept_within_hours = 4
    calendar = SlaPolicy.Calendar.BUSINESS_HOURS


class HandoffFactory(factory.django.DjangoModelFactory):
    """A pending handoff of its account's MQA to the account's owner, due in four hours unless told otherwise."""

    class Meta:
        model = "handoffs.Handoff"

    account = factory.SubFactory(AccountFactory)
    mqa = factory.SubFactory(
        MQAFactory, account=factory.SelfAttribute("..account"), tier=factory.SelfAttribute("..tier")
    )
    territory = factory.LazyAttribute(lambda h: h.account.territory)
    owner = factory.LazyAttribute(lambda h: h.account.owner)
    tier = "tier_2"
    assigned_at = factory.LazyFunction(timezone.now)
    accept_due_at = factory.LazyAttribute(lambda h: h.assigned_at + dt.timedelta(hours=4) if h.assigned_at else None)
    status = "pending"


def ranked_accounts(world, count: int = 130) -> None:
    """`count` scored accounts named "Ranked NNN" across the scopes of the shared world (North, owned by north_rep or
    rep; South; no territory), four in five in Tier 2 and the rest in Tier 3, with ties on the score every few
    accounts (the account id breaks them on every page of a list)."""
    model = ScoringModelFactory()
    places = [(world.north, world.north_rep), (world.north, world.rep), (world.south, world.other_rep), (None, None)]
    for i in range(count):
        territory, owner = places[i % len(places)]
        account = AccountFactory(name=f"Ranked {i:03d}", territory=territory, owner=owner)
        AccountScoreFactory(account=account, model=model, unified=float(i % 37), tier="tier_2" if i % 5 else "tier_3")
