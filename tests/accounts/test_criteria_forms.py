"""The criterion builder as any page uses it (ICP criteria, exclusions, territory rules): rows in, criterion dicts out."""

import pytest
from django.template.loader import render_to_string

from accounts.criteria_forms import CriteriaFormSet, parse_number, parse_value, show_value
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def rows(prefix: str, *items: dict, initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, item in enumerate(items):
        data.update({f"{prefix}-{index}-{field}": value for field, value in item.items()})
    return data


def test_territory_rules_have_groups_but_no_points():
    data = rows(
        "rules",
        {"group": "Where", "attribute": "country", "operator": "in", "value": "united states, Canada"},
        {"group": "", "attribute": "", "operator": "eq", "value": ""},  # blank: ignored
        {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": "1,000"},
    )
    rules = CriteriaFormSet(data, prefix="rules", with_points=False, with_group=True, keys=set())
    assert rules.is_valid(), rules.errors
    assert rules.items() == [
        {"group": "Where", "attribute": "country", "operator": "in", "value": ["united states", "Canada"]},
        {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": 1000},
    ]
    html = render_to_string("accounts/_criteria_builder.html", {"formset": rules, "add_label": "Add rule"})
    assert "+ Add rule" in html and "Points" not in html and ">Group<" in html


def test_exclusions_have_neither_points_nor_groups_and_a_removed_row_is_left_out():
    data = rows(
        "exclusions",
        {"attribute": "is_customer", "operator": "eq", "value": "no", "DELETE": "on"},
        {"attribute": "technologies", "operator": "contains", "value": "Salesforce"},
    )
    exclusions = CriteriaFormSet(data, prefix="exclusions", with_points=False, keys=set())
    assert exclusions.is_valid(), exclusions.errors
    assert exclusions.items() == [{"attribute": "technologies", "operator": "contains", "value": "Salesforce"}]


def test_the_attribute_keys_accounts_hold_are_looked_up_when_not_given():
    AccountFactory(attributes={"lead_source": "webinar"})
    data = rows("criteria", {"attribute": "lead_source", "operator": "eq", "value": "webinar", "points": "5"})
    criteria = CriteriaFormSet(data, prefix="criteria")
    assert criteria.is_valid(), criteria.errors
    assert criteria.items() == [
        {"group": "", "attribute": "lead_source", "operator": "eq", "value": "webinar", "points": 5.0}
    ]
    unknown = CriteriaFormSet(
        rows("criteria", {"attribute": "shoe_size", "operator": "eq", "value": "9", "points": "5"}), prefix="criteria"
    )
    assert not unknown.is_valid()
    assert unknown.errors[0]["attribute"] == ["No account holds “Shoe size”: choose an attribute from the list."]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"attribute": "", "value": "5"}, "attribute", "Choose an attribute."),
        ({"attribute": "industry", "operator": "gte", "value": "5"}, "operator", "“≥” does not apply to Industry"),
        ({"attribute": "employee_count", "operator": "between", "value": "10"}, "value", "Write two numbers"),
        ({"attribute": "employee_count", "operator": "between", "value": "500, 10"}, "value", "low value first"),
        ({"attribute": "is_customer", "operator": "eq", "value": "maybe"}, "value", "Write yes or no."),
        ({"attribute": "industry", "operator": "eq", "value": ""}, "value", "Write a value."),
        ({"attribute": "industry", "operator": "eq", "value": "x", "points": "many"}, "points", "Points must be"),
    ],
)
def test_a_bad_row_says_why_in_words(row, field, message):
    data = rows("criteria", {"operator": "eq", "group": "", "points": "5", **row})
    criteria = CriteriaFormSet(data, prefix="criteria", keys=set())
    assert not criteria.is_valid()
    assert any(message in error for error in criteria.errors[0][field]), criteria.errors


@pytest.mark.parametrize(
    ("text", "number"),
    [("1000", 1000), ("1,000", 1000), ("$1.5M", 1_500_000), ("900k", 900_000), ("-10", -10), ("2.5", 2.5),
     ("$1B", 1_000_000_000)],
)  # fmt: skip
def test_numbers_are_read_as_people_write_them(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["lots", "1,00", "1.2.3", "$", ""])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_a_value_shown_reads_back_the_same():
    for attribute, operator, value in [
        ("employee_count", "between", [1000, 10000]),
        ("employee_count", "in", [50, 1200]),
        ("annual_revenue", "gte", 1_500_000),
        ("industry", "in", ["Software", "Technology"]),
        ("is_customer", "eq", True),
        ("country", "eq", "United States"),
    ]:
        assert parse_value(show_value(value, attribute), operator, attribute) == value


def test_the_partial_works_without_inline_script_and_holds_a_row_template():
    criteria = CriteriaFormSet(
        prefix="criteria",
        items=[{"group": "Size", "attribute": "employee_count", "operator": "gte", "value": 500, "points": 10}],
        keys=set(),
    )
    html = render_to_string("accounts/_criteria_builder.html", {"formset": criteria})
    assert "<script src=" in html and "<script>" not in html and "style=" not in html and "onclick" not in html
    assert "<template data-criteria-template>" in html and 'name="criteria-__prefix__-attribute"' in html
    assert 'name="criteria-TOTAL_FORMS" value="1"' in html and 'value="500"' in html
    assert "+ Add criterion" in html and ">Remove</button>" in html
