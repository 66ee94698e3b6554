"""Intent topics where people meet them: the account page's topics in words, the list's "Surging topic" filter and
the API's `surging_topic` parameter (each scoped like every list), the account API's `surging_topics`; and the
computed field refused wherever accounts are written (CSV import, the account API, the bulk API)."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.imports import ImportFileError, import_file
from accounts.models import Account, Signal
from accounts.topics import topic_surges_refresh

pytestmark = pytest.mark.django_db
URL = "/api/v1/accounts/"


def burst(account, topic: str, recent: int, before: list[int] = ()) -> None:
    now = timezone.now()
    times = [now - dt.timedelta(hours=2 + 5 * i) for i in range(recent)]
    for k, count in enumerate(before):
        times += [now - dt.timedelta(days=7 * (k + 1), hours=3 + 5 * i) for i in range(count)]
    Signal.objects.bulk_create(
        [Signal(account=account, kind="content_download", topic=topic, occurred_at=t) for t in times]
    )


@pytest.fixture
def topics(world):
    """CRM software surges on the North and the South account; Payroll only on the South one; ERP is steady on the
    North account."""
    burst(world.north_account, "CRM software", 14, [2, 2, 3, 1, 2, 2, 3, 1])
    burst(world.north_account, "ERP", 3, [3] * 8)
    burst(world.south_account, "crm software", 9)
    burst(world.south_account, "Payroll", 6)
    topic_surges_refresh()
    return world


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


def listed(client, **params) -> list[str]:
    response = client.get(reverse("account-list"), params)
    assert response.status_code == 200
    return [row.record.name for row in response.context["table"].paginated_rows]


@pytest.mark.parametrize(
    "user, offered, crm, payroll",
    [
        ("north_rep", [("crm software", "CRM software")], ["North account"], []),
        ("other_rep", [("crm software", "crm software"), ("payroll", "Payroll")], ["South account"], ["South account"]),
        ("manager", [("crm software", "CRM software")], ["North account"], []),
        ("admin", [("crm software", "CRM software"), ("payroll", "Payroll")], ["North account", "South account"],
         ["South account"]),
    ],
)  # fmt: skip
def test_the_list_filters_by_a_surging_topic_within_the_users_scope(client, topics, user, offered, crm, payroll):
    client.force_login(getattr(topics, user))
    html = client.get(reverse("account-list")).content.decode()
    assert options(html, "surging_topic") == [("", "Any surging topic"), *offered]
    assert sorted(listed(client, surging_topic="crm software", sort="name")) == crm
    assert sorted(listed(client, surging_topic=" CRM Software ", sort="name")) == crm  # any case, spaces
    assert listed(client, surging_topic="payroll", sort="name") == payroll
    assert listed(client, surging_topic="erp") == []  # steady: not surging
    chosen = client.get(reverse("account-list"), {"surging_topic": "payroll"}).content.decode()
    assert 'value="payroll" selected' in chosen  # shown chosen even where it surges on no visible account


def test_the_account_page_shows_its_topics_surging_first_in_words(client, topics):
    client.force_login(topics.north_rep)
    html = client.get(reverse("account-detail", args=[topics.north_account.pk])).content.decode()
    block = re.search(r'<ul class="mb-1" id="topics">(.*?)</ul>', html, re.S).group(1)
    items = [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li[^>]*>(.*?)</li>", block, re.S)]
    assert items == [
        "surging CRM software: 14 this week against 2 a week before (surging, z 12.0)",
        "ERP: 3 this week against 3 a week before (steady, z 0.0)",
    ]
    assert "A topic surges when its signals this week stand at least 2 standard deviations" in html
    quiet = client.get(reverse("account-detail", args=[topics.owned_by_rep.pk])).content.decode()
    assert "No topics yet" in quiet


@pytest.mark.parametrize(
    "user, expected",
    [("north_rep", {"North account"}), ("other_rep", {"South account"}), ("admin", {"North account", "South account"})],
)
def test_the_api_filters_by_surging_topic_within_the_users_scope(topics, user, expected):
    api = APIClient()
    api.force_authenticate(getattr(topics, user))
    found = api.get(URL, {"surging_topic": "CRM Software"}).json()["results"]
    assert {a["name"] for a in found} == expected
    assert all(a["surging_topics"] for a in found)
    assert api.get(URL, {"surging_topic": "erp"}).json()["results"] == []
    every = api.get(URL).json()["results"]
    assert len(every) > len(found) or user == "other_rep"


def test_the_api_shows_surging_topics_and_the_schema_documents_them(topics):
    api = APIClient()
    api.force_authenticate(topics.north_rep)
    detail = api.get(f"{URL}{topics.south_account.pk}/")
    assert detail.status_code == 404  # out of scope, as ever
    detail = api.get(f"{URL}{topics.north_account.pk}/").json()
    assert detail["surging_topics"] == ["crm software"]
    api.force_authenticate(topics.admin)
    assert api.get(f"{URL}{topics.south_account.pk}/").json()["surging_topics"] == ["crm software", "payroll"]
    schema = api.get("/api/schema/").content.decode()
    assert "name: surging_topic\n" in schema and "Accounts on which this topic surges now" in schema
    assert "surging_topics:" in schema


SURGING_TOPICS_REFUSED = (
    "Surging topics (surging_topics) is computed by the product, from the topics of the account's signals: it cannot "
    "be written or imported; leave it out."
)


# --- Computed: never written ----------------------------------------------------------------------------------------


def test_the_account_api_refuses_to_write_surging_topics(topics):
    api = APIClient()
    api.force_authenticate(topics.admin)
    url = f"{URL}{topics.owned_by_rep.pk}/"
    refused = api.patch(url, {"name": "Renamed", "surging_topics": ["crm software"]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["surging_topics"] == [SURGING_TOPICS_REFUSED]
    refused = api.patch(url, {"attributes": {"surging_topics": ["crm software"]}}, format="json")
    assert refused.status_code == 400 and refused.json()["attributes.surging_topics"] == [SURGING_TOPICS_REFUSED]
    created = api.post(URL, {"name": "New", "domain": "new.example", "surging_topics": ["x"]}, format="json")
    assert created.status_code == 400
    account = Account.objects.get(pk=topics.owned_by_rep.pk)
    assert (account.name, account.surging_topics, account.attributes) == ("Owned by rep", [], {})
    assert not Account.objects.filter(name="New").exists()


def test_the_bulk_api_refuses_surging_topics(topics):
    api = APIClient()
    api.force_authenticate(topics.admin)
    refused = api.post(f"{URL}bulk/", [{"name": "X", "external_id": "X", "surging_topics": ["crm"]}], format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "index": 0,
            "field": "surging_topics",
            "detail": SURGING_TOPICS_REFUSED,
        }
    ]
    refused = api.post(
        f"{URL}bulk/", [{"name": "X", "external_id": "X", "attributes": {"surging_topics": "crm"}}], format="json"
    )
    assert refused.status_code == 400 and "cannot be written" in str(refused.json())
    assert not Account.objects.filter(external_id="X").exists()


def test_an_import_cannot_write_surging_topics(tmp_path, db):
    path = tmp_path / "accounts.csv"
    path.write_text("name,external_id,Surging Topics,lead_source\nAcme,A-1,crm software,webinar\n")
    with pytest.raises(ImportFileError, match="cannot be imported into surging_topics: Surging topics .* is computed"):
        import_file(kind="accounts", path=path, mapping={"Surging Topics": ["surging_topics"]})
    assert not Account.objects.exists()
    report = import_file(kind="accounts", path=path)
    account = Account.objects.get()
    assert (account.surging_topics, account.attributes) == ([], {"lead_source": "webinar"})
    assert f"Not imported: 'Surging Topics'. {SURGING_TOPICS_REFUSED}" in report.notes
    assert not any("Surging Topics" in note for note in report.notes if note.startswith("Columns not mapped"))


def test_the_mapping_page_does_not_offer_surging_topics(client, world):
    client.force_login(world.admin)
    body = b"name,external_id,surging_topics\nAcme,A-1,crm software\n"
    data = {"kind": "accounts", "file": SimpleUploadedFile("firms.csv", body, content_type="text/csv")}
    response = client.post(reverse("import-new"), data, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    note = re.search(r'id="computed-columns">(.*?)</p>', html, re.S).group(1)
    assert (
        "Not imported: &#x27;surging_topics&#x27;. Surging topics (surging_topics) is computed by the product" in note
    )
    assert 'data-field="surging_topics"' not in html  # no field to map it to
    unmapped = re.search(r'id="unmapped">(.*?)</p>', html, re.S)
    assert unmapped is None or "surging_topics" not in unmapped.group(1)
