import datetime as dt

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity, Signal
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
