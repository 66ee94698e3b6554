"""The ICP form built with the criterion builder: what the page sends back as it is, saves; blank rows are ignored;
removed rows are left out; an error keeps every row as typed; pickers speak in labels and words."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from segmentation.models import ICP
from tests.factories import AccountFactory, ICPFactory

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """The fields a browser would send from a page's forms (what a <template> holds is not sent), plus the options
    each select offers."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str] = {}
        self.options: dict[str, list[tuple[str, str]]] = {}
        self.in_template = 0
        self.select: str | None = None
        self.option: tuple[str, bool] | None = None
        self.option_text = ""
        self.textarea: str | None = None
        self.hidden_rows = 0
        self.row_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "template":
            self.in_template += 1
        if self.in_template:
            return
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            self.data[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self.select = attrs.get("name")
            self.options[self.select] = []
        elif tag == "option" and self.select:
            self.option, self.option_text = (attrs.get("value", ""), "selected" in attrs), ""
        elif tag == "textarea":
            self.textarea = attrs.get("name")
            self.data[self.textarea] = ""
        elif tag == "tr" and "data-criteria-row" in attrs and "hidden" in attrs:
            self.hidden_rows += 1

    def handle_data(self, data):
        if self.in_template:
            return
        if self.option is not None:
            self.option_text += data
        elif self.textarea:
            self.data[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "template":
            self.in_template -= 1
        if self.in_template:
            return
        if tag == "option" and self.option is not None:
            value, selected = self.option
            self.options[self.select].append((value, self.option_text.strip()))
            if selected or self.select not in self.data:
                self.data[self.select] = value
            self.option = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            if self.data[self.textarea].startswith("\n"):  # the browser drops a textarea's first newline
                self.data[self.textarea] = self.data[self.textarea][1:]
            self.textarea = None


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def test_an_icp_saved_with_no_change_saves_and_stays_the_same(client, world):
    icp = ICPFactory()
    before = (list(icp.criteria), list(icp.exclusions))
    client.force_login(world.admin)
    page = client.get(reverse("icp-edit", args=[icp.pk])).content.decode()
    sent = read_form(page).data
    sent.pop("csrfmiddlewaretoken", None)
    response = client.post(reverse("icp-edit", args=[icp.pk]), sent)
    assert response.status_code == 302, response.content.decode()
    icp.refresh_from_db()
    assert (icp.criteria, icp.exclusions) == before


def test_the_form_shows_only_the_stored_rows_and_adds_more_with_a_button(client, world):
    icp = ICPFactory()
    client.force_login(world.admin)
    page = client.get(reverse("icp-edit", args=[icp.pk])).content.decode()
    sent = read_form(page).data
    assert sent["criteria-TOTAL_FORMS"] == str(len(icp.criteria))  # no blank rows after every save
    assert sent["exclusions-TOTAL_FORMS"] == str(len(icp.exclusions))
    assert "+ Add criterion" in page and "+ Add exclusion" in page and ">Remove</button>" in page
    assert "<template data-criteria-template>" in page and "criteria-__prefix__-attribute" in page
    assert 'src="/static/js/criteria_builder.js"' in page


def test_a_new_icp_saves_and_blank_rows_are_ignored(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("icp-new")).content.decode()
    sent = read_form(page).data
    assert sent["criteria-TOTAL_FORMS"] == "0"
    sent.update(
        {
            "name": "Mid-market",
            "criteria-TOTAL_FORMS": "3",
            # a row added and left blank: the operator select still sends "is"
            "criteria-0-group": "", "criteria-0-attribute": "", "criteria-0-operator": "eq", "criteria-0-value": "",
            "criteria-0-points": "",
            "criteria-1-group": "Size", "criteria-1-attribute": "employee_count", "criteria-1-operator": "between",
            "criteria-1-value": "1,000, 10,000", "criteria-1-points": "40",
            "criteria-2-group": "", "criteria-2-attribute": "", "criteria-2-operator": "gte", "criteria-2-value": "",
            "criteria-2-points": "",
            "exclusions-TOTAL_FORMS": "1",
            "exclusions-0-attribute": "", "exclusions-0-operator": "eq", "exclusions-0-value": "",
        }
    )  # fmt: skip
    response = client.post(reverse("icp-new"), sent)
    assert response.status_code == 302, response.content.decode()
    icp = ICP.objects.get(name="Mid-market")
    assert icp.criteria == [
        {"group": "Size", "attribute": "employee_count", "operator": "between", "value": [1000, 10000], "points": 40}
    ]
    assert icp.exclusions == []


def test_a_stored_row_cleared_is_dropped_and_a_removed_row_is_left_out(client, world):
    icp = ICPFactory()
    client.force_login(world.admin)
    sent = read_form(client.get(reverse("icp-edit", args=[icp.pk])).content.decode()).data
    sent.pop("csrfmiddlewaretoken", None)
    for field in ("group", "attribute", "value", "points"):  # the first row emptied by hand
        sent[f"criteria-0-{field}"] = ""
    sent["criteria-1-DELETE"] = "on"  # the second removed with its button
    response = client.post(reverse("icp-edit", args=[icp.pk]), sent)
    assert response.status_code == 302
    before = ICPFactory.build().criteria
    icp.refresh_from_db()
    assert icp.criteria == before[2:]


def test_an_error_keeps_every_row_as_typed_and_saves_nothing(client, world):
    icp = ICPFactory()
    before = list(icp.criteria)
    client.force_login(world.admin)
    sent = read_form(client.get(reverse("icp-edit", args=[icp.pk])).content.decode()).data
    sent.pop("csrfmiddlewaretoken", None)
    sent.update(
        {
            "description": "Typed before the mistake",
            "criteria-1-DELETE": "on",
            "criteria-TOTAL_FORMS": str(len(before) + 1),
            "criteria-4-group": "Revenue", "criteria-4-attribute": "annual_revenue", "criteria-4-operator": "gte",
            "criteria-4-value": "lots", "criteria-4-points": "15",
        }
    )  # fmt: skip
    response = client.post(reverse("icp-edit", args=[icp.pk]), sent)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Write a number, e.g. 1,000 or 1.5M; “lots” is not one." in page
    assert "Nothing was saved" in page
    shown = read_form(page)
    assert shown.data["description"] == "Typed before the mistake"
    assert (shown.data["criteria-4-group"], shown.data["criteria-4-value"]) == ("Revenue", "lots")
    assert (shown.data["criteria-4-attribute"], shown.data["criteria-4-operator"]) == ("annual_revenue", "gte")
    assert shown.data["criteria-4-points"] == "15"
    assert shown.data["criteria-1-DELETE"] in ("on", "True") and shown.hidden_rows == 1  # still removed
    icp.refresh_from_db()
    assert icp.criteria == before and icp.description == ""


def test_pickers_show_field_labels_attribute_keys_and_operators_in_words(client, world):
    AccountFactory(attributes={"lead_source": "webinar"})
    icp = ICPFactory(criteria=[{"group": "", "attribute": "lead_source", "operator": "eq", "value": "webinar",
                                "points": 5}])  # fmt: skip
    client.force_login(world.admin)
    reader = read_form(client.get(reverse("icp-edit", args=[icp.pk])).content.decode())
    attributes = dict(reader.options["criteria-0-attribute"])
    assert attributes["employee_count"] == "Employees" and attributes["annual_revenue"] == "Annual revenue"
    assert attributes["lead_source"] == "Lead source"
    assert reader.data["criteria-0-attribute"] == "lead_source"
    operators = dict(reader.options["criteria-0-operator"])
    assert operators == {
        "eq": "is", "neq": "is not", "in": "is one of", "not_in": "is none of", "gte": "≥", "lte": "≤",
        "between": "between", "contains": "contains", "exists": "is known",
    }  # fmt: skip


def test_values_read_as_people_write_them_and_show_back_the_same(client, world):
    client.force_login(world.admin)
    sent = {
        "name": "Money", "description": "",
        "criteria-TOTAL_FORMS": "3", "criteria-INITIAL_FORMS": "0",
        "criteria-0-attribute": "annual_revenue", "criteria-0-operator": "gte", "criteria-0-value": "$1.5M",
        "criteria-0-points": "10", "criteria-0-group": "Revenue",
        "criteria-1-attribute": "employee_count", "criteria-1-operator": "in", "criteria-1-value": "1,000, 2,500",
        "criteria-1-points": "-5", "criteria-1-group": "",
        "criteria-2-attribute": "industry", "criteria-2-operator": "in", "criteria-2-value": "Software, Technology",
        "criteria-2-points": "7.5", "criteria-2-group": "",
        "exclusions-TOTAL_FORMS": "1", "exclusions-INITIAL_FORMS": "0",
        "exclusions-0-attribute": "is_customer", "exclusions-0-operator": "eq", "exclusions-0-value": "yes",
    }  # fmt: skip
    assert client.post(reverse("icp-new"), sent).status_code == 302
    icp = ICP.objects.get(name="Money")
    assert [(c["value"], c["points"]) for c in icp.criteria] == [
        (1_500_000, 10),
        ([1000, 2500], -5),
        (["Software", "Technology"], 7.5),
    ]
    assert icp.exclusions == [{"attribute": "is_customer", "operator": "eq", "value": True}]
    shown = read_form(client.get(reverse("icp-edit", args=[icp.pk])).content.decode()).data
    assert [shown[f"criteria-{n}-value"] for n in range(3)] == ["1,500,000", "1,000, 2,500", "Software, Technology"]
    assert shown["exclusions-0-value"] == "yes"


@pytest.mark.parametrize("name", ["manager", "north_rep"])
def test_only_admins_open_or_save_an_icp(client, world, name):
    icp = ICPFactory()
    before = list(icp.criteria)
    client.force_login(getattr(world, name))
    assert client.get(reverse("icp-edit", args=[icp.pk])).status_code == 403
    assert client.post(reverse("icp-edit", args=[icp.pk]), {"name": "Taken over"}).status_code == 403
    assert client.get(reverse("icp-new")).status_code == 403
    icp.refresh_from_db()
    assert (icp.name, icp.criteria) == (icp.name, before) and not ICP.objects.filter(name="Taken over").exists()
