"""The duplicates job: it finds planted duplicates (typos, legal forms, website variants, case) by blocks, and not
distinct companies that merely look alike."""

import pytest
from django.urls import reverse

from accounts import duplicates
from accounts.duplicates import detect_pairs, duplicates_detect
from accounts.matching import country_key, domain_key, name_key
from accounts.models import Account, DuplicateCandidate
from core.models import Job

from ..factories import AccountFactory

pytestmark = pytest.mark.django_db

PLANTED = [  # (the account we have, its duplicate): name, domain (as typed), country
    (("Veltora Systems", "veltora.com", "Germany"), ("VELTORA SYSTEMS GMBH", None, "Germany")),  # case, legal form
    (("Brightwave Analytics", "brightwave.io", "United States"), ("Brightwave Anaytlics Inc.", None, "United States")),
    (("Quillon Freight", "quillon.co.uk", "United Kingdom"), ("Quillon Ltd", "https://www.shop.Quillon.co.uk/a", "United Kingdom")),
    (("Moravek Energy", None, "France"), ("Moravek Energie S.A.", None, "France")),  # typo + legal form
]  # fmt: skip
DISTINCT = [  # alike, but not one company
    ("Veltora Systems", "veltora-systems.ca", "Canada"),  # the same name abroad
    ("Brightwave Labs", "brightwave-labs.com", "United States"),  # a sibling name with its own domain
    ("Northwind Traders", "northwind.com", "United States"),
    ("Northwind Trading", "northwind-trading.com", "United States"),  # alike, but their domains differ
    ("Eu Acme", "eu.acme.com", "Spain"),
    ("Us Zenith", "us.acme.com", "Spain"),  # sibling hosts of one domain, unrelated names
]


def _account(name, domain, country):
    return AccountFactory(name=name, domain=domain and domain.split("//")[-1].split("/")[0].lower().removeprefix("www."),
                          country=country, external_id=None)  # fmt: skip


@pytest.fixture
def planted():
    pairs = [(_account(*a), _account(*b)) for a, b in PLANTED]
    distinct = [_account(*d) for d in DISTINCT]
    return pairs, distinct


def _found():
    return {frozenset((c.account_a_id, c.account_b_id)): c for c in DuplicateCandidate.objects.all()}


def test_the_job_finds_the_planted_pairs_and_not_distinct_companies(planted):
    pairs, distinct = planted
    result = duplicates_detect()
    found = _found()
    for original, duplicate in pairs:
        assert frozenset((original.pk, duplicate.pk)) in found, (original.name, duplicate.name)
    planted_keys = {frozenset((a.pk, b.pk)) for a, b in pairs}
    assert set(found) == planted_keys, [(c.account_a.name, c.account_b.name) for c in found.values()]
    assert result["summary"]["candidate_pairs"] == len(pairs)
    quillon = found[frozenset((pairs[2][0].pk, pairs[2][1].pk))]
    assert quillon.evidence["same_domain"] and quillon.score >= 90
    assert "same domain (quillon.co.uk)" in quillon.evidence["reasons"]


def test_a_second_run_finds_the_same_pairs_and_keeps_no_stale_ones(planted):
    duplicates_detect()
    first = {(c.account_a_id, c.account_b_id, c.score) for c in DuplicateCandidate.objects.all()}
    duplicates_detect()
    assert {(c.account_a_id, c.account_b_id, c.score) for c in DuplicateCandidate.objects.all()} == first


def test_accounts_loaded_without_keys_get_them_before_the_search(planted):
    pairs, _ = planted
    Account.objects.update(name_key=None, domain_key=None)  # as a bulk load straight into the table leaves them
    result = duplicates_detect()
    assert result["summary"]["keys_computed"] == Account.objects.count()
    assert len(_found()) == len(pairs)
    assert Account.objects.get(pk=pairs[2][1].pk).domain_key == "quillon.co.uk"


def test_a_large_block_is_compared_in_a_sliding_window_not_all_pairs(monkeypatch):
    monkeypatch.setattr(duplicates, "MAX_NAME_BLOCK", 10)
    monkeypatch.setattr(duplicates, "WINDOW", 5)
    names = [name_key(f"Apex Holding {i:03d}") for i in range(200)] + [name_key("Apex Holdnig 042")]
    found = detect_pairs(names, [None] * len(names), [country_key("Japan")] * len(names))
    assert found.windowed_blocks >= 1
    assert found.compared < len(names) * (len(names) - 1) // 2 / 4  # far fewer than all pairs
    assert (42, 200) in found.pairs


def test_blocks_never_cross_countries():
    names = [name_key("Acme"), name_key("Acme")]
    assert detect_pairs(names, [None, None], ["germany", "france"]).pairs == {}
    assert list(detect_pairs(names, [None, None], ["germany", "germany"]).pairs) == [(0, 1)]
    # ...but a shared site does.
    keys = [domain_key("acme.com"), domain_key("shop.acme.com")]
    hosts = ["acme.com", "shop.acme.com"]
    assert list(detect_pairs(names, keys, ["germany", "france"], hosts).pairs) == [(0, 1)]


def test_the_admin_starts_the_job_from_the_page_and_sees_the_pairs_with_their_evidence(
    client, world, planted, django_capture_on_commit_callbacks
):
    client.force_login(world.admin)
    empty = client.get(reverse("account-duplicates")).content.decode()
    assert "Nobody has looked for duplicates yet" in empty
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account-duplicates"))
    assert response.status_code == 302
    job = Job.objects.get(params__duplicates=True)
    assert job.status == Job.Status.SUCCEEDED, job.error
    page = client.get(reverse("account-duplicates")).content.decode()
    assert "VELTORA SYSTEMS GMBH" in page and "Same domain" in page and "Names 100% alike" in page
    assert "Same country" in page and f"job #{job.pk}" in page
    assert page.index("Quillon Ltd") < page.index("Moravek Energie S.A.")  # best score first
