"""The territory form's preview counts what the criterion language matches: the SQL it uses to count at scale agrees
with accounts.criteria account by account, whether the rules are said exactly in SQL or checked in Python."""

import pytest

from accounts.criteria import VALUE_COLUMNS, account_values, all_groups_match, criterion_from_dict
from accounts.models import Account
from territories import rule_preview
from territories.rule_preview import rules_preview, rules_q
from tests.factories import AccountFactory


@pytest.fixture
def accounts(db):
    rows = [
        dict(name="Globex", country="Germany", industry="Software", employee_count=5000, annual_revenue=2_000_000_000,
             technologies=["Salesforce", "AWS"], is_customer=False, attributes={"segment": "Enterprise"}),
        dict(name="Initech", country="  germany ", industry="software", employee_count=800, annual_revenue=None,
             technologies=["HubSpot"], is_customer=True, attributes={"segment": "mid-market"}),
        dict(name="Umbrella", country="France", industry="Biotech", employee_count=20000, annual_revenue=9e8,
             technologies=[], is_customer=False, attributes={}),
        dict(name="Hooli", country="", industry="  ", domain=None, employee_count=None, annual_revenue=None,
             technologies=["aws"], is_customer=False, attributes={"segment": "Enterprise "}),
        dict(name="Vandelay", country="United States", industry="Import/Export", employee_count=50,
             annual_revenue=1_500_000, technologies=["Salesforce"], is_customer=True, attributes={"segment": 12}),
    ]  # fmt: skip
    for row in rows:
        AccountFactory(**row)


CASES = [
    [{"attribute": "country", "operator": "eq", "value": "Germany"}],
    [{"attribute": "country", "operator": "neq", "value": "germany"}],
    [{"attribute": "country", "operator": "in", "value": ["France", "United States"]}],
    [{"attribute": "country", "operator": "not_in", "value": ["France"]}],
    [{"attribute": "country", "operator": "exists"}],
    [{"attribute": "domain", "operator": "not_in", "value": ["nowhere.example"]}],  # a missing domain matches
    [{"attribute": "industry", "operator": "contains", "value": "soft"}],
    [{"attribute": "employee_count", "operator": "between", "value": [500, 6000]}],
    [{"attribute": "employee_count", "operator": "neq", "value": 800}],
    [{"attribute": "annual_revenue", "operator": "gte", "value": 1_000_000_000}],
    [{"attribute": "annual_revenue", "operator": "lte", "value": 1_000_000_000}],
    [{"attribute": "is_customer", "operator": "eq", "value": True}],
    [{"attribute": "is_customer", "operator": "neq", "value": "true"}],
    [{"attribute": "technologies", "operator": "contains", "value": "aws"}],
    [{"attribute": "segment", "operator": "eq", "value": "enterprise"}],
    [{"attribute": "segment", "operator": "neq", "value": "Enterprise"}],
    # Groups: alternatives within one, every group must match.
    [
        {"group": "Where", "attribute": "country", "operator": "eq", "value": "Germany"},
        {"group": "Where", "attribute": "country", "operator": "eq", "value": "France"},
        {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": 1000},
    ],
    [
        {"attribute": "country", "operator": "eq", "value": "Germany"},
        {"attribute": "technologies", "operator": "contains", "value": "salesforce"},
    ],
]


def by_hand(criteria) -> set[str]:
    rules = [criterion_from_dict(c) for c in criteria]
    return {
        row["name"] for row in Account.objects.values(*VALUE_COLUMNS) if all_groups_match(rules, account_values(row))
    }


@pytest.mark.parametrize("criteria", CASES)
def test_the_preview_counts_what_the_criterion_language_matches(accounts, criteria):
    expected = by_hand(criteria)
    preview = rules_preview(criteria=criteria)
    assert preview.matched == preview.total == len(expected)
    assert set(preview.examples) <= expected and len(preview.examples) == min(5, len(expected))
    # The SQL filter alone never leaves out an account that matches.
    q, _ = rules_q([criterion_from_dict(c) for c in criteria])
    assert expected <= set(Account.objects.filter(q).values_list("name", flat=True))


@pytest.mark.parametrize("criteria", CASES)
def test_the_python_check_agrees(accounts, criteria, monkeypatch):
    monkeypatch.setattr(rule_preview, "criterion_q", lambda criterion: None)
    assert rules_preview(criteria=criteria).matched == len(by_hand(criteria))


def test_simple_rules_are_counted_by_the_database_and_others_checked_within_a_limit(accounts, monkeypatch):
    _, exact = rules_q([criterion_from_dict(c) for c in CASES[0]])
    assert exact
    _, exact = rules_q([criterion_from_dict(c) for c in CASES[-1]])  # a list attribute: Python decides
    assert not exact
    monkeypatch.setattr(rule_preview, "SCAN_LIMIT", 2)
    partial = rules_preview(criteria=[{"attribute": "segment", "operator": "exists"}])
    assert partial.partial and partial.scanned == 2


def test_no_rules_take_only_the_named_accounts(accounts):
    ids = list(Account.objects.filter(name__in=["Globex", "Hooli"]).values_list("pk", flat=True))
    preview = rules_preview(criteria=[], named_ids=ids)
    assert (preview.matched, preview.named, preview.total, preview.examples) == (0, 2, 2, ["Globex", "Hooli"])
