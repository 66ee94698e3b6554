"""Matching: domains and names normalised on the way in, and a new account matched against the ones we have (import
and API): a confident match updates the account we have, a doubtful one is created and reported."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.imports import import_file, import_records
from accounts.matching import (
    NAME_CONFIDENT,
    NAME_DOUBTFUL,
    domain_key,
    name_key,
    name_similarity,
    normalise_domain,
    pair_score,
)
from accounts.models import Account
from core.models import Job

from ..factories import AccountFactory


@pytest.mark.parametrize(
    ("raw", "host", "key"),
    [
        ("www.acme.com", "acme.com", "acme.com"),
        ("https://acme.com", "acme.com", "acme.com"),
        ("HTTPS://WWW.Acme.COM/about/team?x=1#top", "acme.com", "acme.com"),
        ("http://acme.com:8080/", "acme.com", "acme.com"),
        ("shop.acme.com", "shop.acme.com", "acme.com"),
        ("https://www.shop.acme.co.uk/contact", "shop.acme.co.uk", "acme.co.uk"),
        ("acme.co.uk", "acme.co.uk", "acme.co.uk"),
        ("eu.acme.com.au", "eu.acme.com.au", "acme.com.au"),
        ("jane@mail.acme.de", "mail.acme.de", "acme.de"),
        ("acme.myshopify.com", "acme.myshopify.com", "acme.myshopify.com"),  # a private suffix: a shop, not Shopify
    ],
)
def test_domains_are_normalised_to_their_host_and_keyed_by_registrable_domain(raw, host, key):
    assert normalise_domain(raw) == host
    assert domain_key(raw) == key


def test_a_domain_under_no_public_suffix_has_no_key():
    assert domain_key("intranet") is None
    assert domain_key("") is None and domain_key(None) is None


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Acme", "acme"),
        ("ACME, Inc.", "acme"),
        ("Acme Inc", "acme"),
        ("acme llc", "acme"),
        ("Acme Ltd.", "acme"),
        ("Acme Limited", "acme"),
        ("Acme GmbH", "acme"),
        ("Acme AG", "acme"),
        ("Acme S.A.", "acme"),
        ("Acme SAS", "acme"),
        ("Acme B.V.", "acme"),
        ("Acme Corp.", "acme"),
        ("Acme Corporation", "acme"),
        ("Acme & Co.", "acme"),
        ("Acme PLC", "acme"),
        ("Acme Pty Ltd", "acme"),
        ("The Acme Company", "acme"),
        ("Müller & Söhne GmbH", "muller and sohne"),
        ("Globex Systems, Inc.", "globex systems"),
        ("AG", "ag"),  # never the whole name
        ("Inc. Magazine", "inc magazine"),  # a legal form only at the end
    ],
)
def test_company_names_are_keyed_without_legal_form_case_or_punctuation(name, key):
    assert name_key(name) == key


def test_name_similarity_ignores_word_order_and_scores_typos():
    assert name_similarity("globex systems", "systems globex") == 100
    assert NAME_DOUBTFUL <= name_similarity("globex systems", "globex sytsems") < NAME_CONFIDENT
    assert name_similarity("globex systems", "initech") < NAME_DOUBTFUL


def test_pair_score_weighs_domain_name_and_country():
    same_site = pair_score(name_a="acme", name_b="acme online", domain_a="acme.com", domain_b="acme.com",
                           country_a="us", country_b="us", host_a="acme.com", host_b="shop.acme.com")  # fmt: skip
    assert same_site.same_domain and same_site.score >= 90
    siblings = pair_score(name_a="acme one", name_b="zenith two", domain_a="acme.com", domain_b="acme.com",
                          country_a="us", country_b="us", host_a="eu.acme.com", host_b="us.acme.com")  # fmt: skip
    assert not siblings.same_domain and siblings.score < NAME_DOUBTFUL
    abroad = pair_score(name_a="acme", name_b="acme", domain_a=None, domain_b=None, country_a="us", country_b="fr")
    assert abroad.score == 0
    other = pair_score(name_a="acme", name_b="acme", domain_a="acme.com", domain_b="acme.io",
                       country_a="us", country_b="us")  # fmt: skip
    assert other.other_domains and other.score == 80


# --- the importer ---------------------------------------------------------------------------------------------------


def write(tmp_path, text):
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_an_imported_domain_is_stored_normalised_with_its_keys(tmp_path):
    import_file(kind="accounts", path=write(tmp_path, "name,domain\nACME Widgets GmbH,HTTPS://WWW.Shop.ACME.co.uk/x\n"))
    account = Account.objects.get()
    assert (account.domain, account.domain_key, account.name_key) == ("shop.acme.co.uk", "acme.co.uk", "acme widgets")


@pytest.mark.django_db
def test_import_updates_the_account_a_row_confidently_matches_instead_of_adding_a_duplicate(tmp_path):
    acme = AccountFactory(name="Acme Widgets", domain="acme.com", external_id=None, country="Germany", industry="")
    globex = AccountFactory(name="Globex Systems", domain=None, external_id=None, country="France")
    body = (
        "external_id,name,domain,country,industry,employee_count\n"
        ",ACME Widgets Inc.,https://www.shop.acme.com/about,Germany,Manufacturing,120\n"  # same site
        "CRM-5,Globex Systems S.A.,,France,Software,80\n"  # the same name without its legal form, same country
    )
    report = import_file(kind="accounts", path=write(tmp_path, body))
    assert (report.created, report.updated, report.matched, report.possible_duplicates) == (0, 2, 2, 0)
    assert Account.objects.count() == 2
    acme.refresh_from_db()
    globex.refresh_from_db()
    assert (acme.name, acme.domain, acme.industry, acme.employee_count) == ("Acme Widgets", "acme.com",
                                                                           "Manufacturing", 120)  # fmt: skip
    assert (globex.industry, globex.employee_count, globex.external_id) == ("Software", 80, "CRM-5")
    lines = report.as_dict()["matches"]
    assert [line for line, *_ in lines] == [2, 3]
    assert f"account #{acme.pk} “Acme Widgets”" in lines[0][1] and "same domain (acme.com)" in lines[0][1]
    assert "updated it" in lines[1][1]
    assert report.summary()["matched"] == 2


@pytest.mark.django_db
def test_import_adds_a_doubtful_match_and_reports_it(tmp_path):
    globex = AccountFactory(name="Globex Systems", domain=None, external_id=None, country="France")
    body = "name,country,external_id\nGlobex Sytsems,France,CRM-9\nGlobex Systems,Germany,CRM-10\n"
    report = import_file(kind="accounts", path=write(tmp_path, body))
    assert (report.created, report.matched, report.possible_duplicates) == (2, 0, 1)
    assert Account.objects.count() == 3
    ((line, words, confident, account_id),) = report.as_dict()["matches"]
    assert (line, confident, account_id) == (2, False, globex.pk)
    assert "Possible duplicate of" in words and "same country" in words and "added as a new account" in words


@pytest.mark.django_db
def test_a_row_with_another_account_id_is_never_merged_silently():
    AccountFactory(name="Initech", domain=None, external_id="CRM-1", country="Canada")
    report = import_records(kind="accounts", records=[{"name": "Initech", "external_id": "CRM-2", "country": "Canada"}])
    assert (report.created, report.possible_duplicates) == (1, 1)
    assert "another account ID (CRM-1)" in report.matches[0][1].words()


@pytest.mark.django_db
def test_an_existing_account_id_still_wins_over_matching():
    kept = AccountFactory(name="Hooli", domain=None, external_id="CRM-1", country="Canada")
    AccountFactory(name="Hooli XYZ", domain=None, external_id="CRM-7", country="Canada")
    report = import_records(
        kind="accounts", records=[{"name": "Hooli XYZ", "external_id": "CRM-1", "country": "Canada"}]
    )
    assert (report.updated, report.created, report.matches) == (1, 0, [])
    kept.refresh_from_db()
    assert kept.name == "Hooli XYZ"  # upserted by its key, as before


# --- the API --------------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_api(world):
    client = APIClient()
    client.force_authenticate(world.admin)
    return client


@pytest.mark.django_db
def test_api_create_updates_a_confident_match(admin_api):
    acme = AccountFactory(name="Acme Widgets", domain="acme.com", external_id=None, country="Germany")
    before = Account.objects.count()
    response = admin_api.post("/api/v1/accounts/", {"name": "ACME Widgets GmbH", "domain": "http://WWW.acme.com/de",
                                                    "country": "Germany", "employee_count": 40}, format="json")  # fmt: skip
    # The exact domain is a key: refused as before (it names the account we have).
    assert response.status_code == 400
    response = admin_api.post("/api/v1/accounts/", {"name": "ACME Widgets GmbH", "domain": "https://shop.acme.com",
                                                    "country": "Germany", "employee_count": 40}, format="json")  # fmt: skip
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == acme.pk and body["match"]["confident"] and body["match"]["same_domain"]
    assert Account.objects.count() == before
    acme.refresh_from_db()
    assert acme.employee_count == 40 and acme.domain == "acme.com"


@pytest.mark.django_db
def test_api_create_reports_a_doubtful_match(admin_api):
    globex = AccountFactory(name="Globex Systems", domain=None, external_id=None, country="France")
    response = admin_api.post("/api/v1/accounts/", {"name": "Globex Sytsems", "country": "France"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] != globex.pk
    (duplicate,) = body["possible_duplicates"]
    assert duplicate["account"] == globex.pk and not duplicate["confident"]
    assert NAME_DOUBTFUL <= duplicate["name_similarity"] < NAME_CONFIDENT and duplicate["same_country"]


@pytest.mark.django_db
def test_api_bulk_reports_matches_by_index(admin_api):
    acme = AccountFactory(name="Acme Widgets", domain="acme.com", external_id=None, country="Germany")
    globex = AccountFactory(name="Globex Systems", domain=None, external_id=None, country="France")
    items = [
        {"name": "Initech", "domain": "initech.com"},
        {"name": "Acme Widgets AG", "domain": "www.store.acme.com", "country": "Germany", "employee_count": 77},
        {"name": "Globex Sytsems", "external_id": "G-2", "country": "France"},
    ]
    response = admin_api.post("/api/v1/accounts/bulk/", items, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["updated"]) == (2, 1)
    assert [(m["index"], m["account"]) for m in body["matched"]] == [(1, acme.pk)]
    assert [(m["index"], m["account"]) for m in body["possible_duplicates"]] == [(2, globex.pk)]


@pytest.mark.django_db
def test_the_import_jobs_page_and_the_command_list_the_matches(client, world, tmp_path):
    AccountFactory(name="Globex Systems", domain=None, external_id=None, country="France")
    path = write(tmp_path, "name,country,external_id\nGlobex Sytsems,France,CRM-9\n")
    out = io.StringIO()
    call_command("import_csv", "--kind", "accounts", str(path), stdout=out)
    assert "line 2: Possible duplicate of account #" in out.getvalue()
    job = Job.objects.get(kind=Job.Kind.IMPORT)
    client.force_login(world.admin)
    page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "Matched to accounts we have (1)" in page and "Possible duplicate of account #" in page
    assert '<th scope="row">Possible duplicates added</th><td class="text-end">1</td>' in page


@pytest.mark.django_db
def test_a_short_name_is_matched_beside_longer_ones_that_start_like_it():
    AccountFactory(name="00", domain=None, external_id=None, country="")
    AccountFactory(name="0000", domain=None, external_id=None, country="")
    report = import_records(kind="accounts", records=[{"name": "00 Inc", "external_id": "Z-1"}])
    assert (report.updated, report.created, report.matched) == (1, 0, 1)
