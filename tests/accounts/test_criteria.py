"""The criterion language has one list of account fields, read alike by every path that matches accounts: the SQL
engine (PostgreSQL), the Python scoring (elsewhere), routing and recalibration."""

import datetime as dt

import pytest

from accounts.criteria import ACCOUNT_FIELDS, VALUE_COLUMNS, Criterion, account_values, criterion_matches
from accounts.models import Account
from segmentation import services
from segmentation.models import AccountScore
from territories.services import assignment_apply
from tests.factories import AccountFactory, ICPFactory, MembershipFactory, ScoringModelFactory, TerritoryFactory

AS_OF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_what_criteria_read_is_the_fields_over_the_attributes():
    row = {
        "id": 7,
        "name": "Acme",
        "external_id": "ACME-1",
        "industry": "Software",
        "attributes": {"industry": "shadowed", "segment": "smb", "owner_id": 3},
    }
    values = account_values(row)
    assert values["external_id"] == "ACME-1" and values["industry"] == "Software"  # a field wins over an attribute
    assert values["segment"] == "smb" and values["owner_id"] == 3  # any other name is an attribute
    assert "id" not in values or values["id"] is None
    assert set(ACCOUNT_FIELDS) <= set(VALUE_COLUMNS)


@pytest.mark.django_db
def test_a_criterion_on_external_id_scores_the_same_on_every_database(django_capture_on_commit_callbacks):
    matching = AccountFactory(external_id="ACME-1", industry="retail")
    other = AccountFactory(external_id="ACME-2", industry="retail")
    icp = ICPFactory(
        criteria=[{"group": "key", "attribute": "external_id", "operator": "eq", "value": "acme-1 ", "points": 10}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=ScoringModelFactory(icp=icp), user=None, as_of=AS_OF)
    fits = dict(AccountScore.objects.values_list("account_id", "fit"))
    assert fits == {matching.pk: 100.0, other.pk: 0.0}
    for row in Account.objects.values(*VALUE_COLUMNS):  # the pure module reads the same
        expected = criterion_matches(Criterion("external_id", "eq", "acme-1 "), account_values(row))
        assert expected == (fits[row["id"]] == 100.0)


@pytest.mark.django_db
def test_a_territory_rule_on_external_id_routes_the_account():
    territory = TerritoryFactory(criteria=[{"attribute": "external_id", "operator": "in", "value": ["ACME-1"]}])
    rep = MembershipFactory(territory=territory).user
    matching = AccountFactory(external_id="ACME-1")
    other = AccountFactory(external_id="ACME-2")
    assignment_apply(user=None, account_ids=[matching.pk, other.pk])
    matching.refresh_from_db()
    other.refresh_from_db()
    assert (matching.territory, matching.owner) == (territory, rep)
    assert other.territory is None


def test_a_values_reader_gives_the_rules_what_account_values_gives():
    """Routing reads only the columns its rules name; each named value must be the one account_values gives (a field
    over an attribute of the same name, an attribute where no field has that name)."""
    from accounts.criteria import account_values, values_reader

    row = {"id": 1, "name": "Acme", "country": "France", "industry": None, "employee_count": 40,
           "attributes": {"country": "Spain", "plan": "gold", "industry": "Retail"}}  # fmt: skip
    for named in (["country"], ["country", "plan"], ["industry", "plan", "employee_count"], ["plan"]):
        columns = ["id", "name", *[n for n in named if n in row and n != "attributes"]]
        if any(n not in row for n in named):
            columns.append("attributes")
        read = values_reader(columns)({c: row[c] for c in columns})
        assert {n: read.get(n) for n in named} == {n: account_values(row).get(n) for n in named}, named
