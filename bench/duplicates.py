"""Benchmark: finding duplicate accounts among 1,000,000, of which 1% are planted duplicates (target <= 5 minutes).

The world: companies with made-up names (one word of three or four syllables or, for 60%, two words; for half a
trade word such as "Logistics" after them, for 30% a legal form), in seven countries, most with a website on their
country's suffix (`.com`, `.co.uk`, `.de`, `.co.jp`, `.com.br`...), a fifth without one. Names repeat, or nearly, by
chance, as they do: two companies of (nearly) the same name in one country, one without a website, count against the
precision. 1% of the accounts are then
planted duplicates of others, each with one or more of: a typo in the name (a letter swapped, dropped, doubled or
replaced), a legal form added or changed (Inc., GmbH, Ltd, S.A., LLC...), the name in upper or lower case, and a
website typed differently (`https://www.Shop.Acme.co.uk/about`: scheme, `www.`, case, path, a subdomain) or left
out. Every account is written with its matching keys as the importer writes them (accounts/matching.py).

Then the duplicates job's body runs (`duplicates_detect`: read every account, block, compare, store the candidate
pairs), timed. Its pairs are checked against the planted ones: precision (planted pairs among those found) and
recall (planted pairs found), for every pair listed and for those scoring 90, 95 and 99 or more. The baseline, in the
same run: exact matching on the normalised domain only (the registrable domain), and on the normalised name within a
country, each one SQL query.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import numpy as np
from _common import django_on_fresh_database, scale

TARGET_SECONDS = 300
_SYLLABLES = (
    "ba be bi bo bu ca ce co cu da de di do du fa fe fi fo ga go gu ha he hi ho ka ke ki ko ku la le li lo lu ma me "
    "mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zi zo "
    "bra bri cla cro dra fli gra gro kra pla pri qua sta stra tra tri vel mar lor ven tor sil nor quin thal wen"
)
SYLLABLES = _SYLLABLES.split()
_TRADE_WORDS = (
    "Systems Labs Logistics Analytics Energy Foods Health Software Capital Partners Industries Robotics Media "
    "Networks Freight Motors Pharma Studios Foundry Bank"
)
TRADE_WORDS = _TRADE_WORDS.split()
LEGAL_FORMS = ["Inc.", "Inc", "LLC", "Ltd", "Ltd.", "Limited", "GmbH", "AG", "S.A.", "SA", "SAS", "B.V.", "Corp.",
               "Corporation", "Co.", "PLC", "Pty Ltd"]  # fmt: skip
COUNTRIES = [  # name, web suffix, share
    ("United States", "com", 0.5),
    ("United Kingdom", "co.uk", 0.12),
    ("Germany", "de", 0.12),
    ("France", "fr", 0.08),
    ("Canada", "ca", 0.07),
    ("Japan", "co.jp", 0.06),
    ("Brazil", "com.br", 0.05),
]
SUBDOMAINS = ["shop", "eu", "app", "store", "info", "us", "global"]
COLUMNS = ["name", "domain", "external_id", "industry", "country", "region", "city", "technologies", "is_customer",
           "attributes", "created_at", "updated_at", "name_key", "domain_key"]  # fmt: skip


def _word(rng: np.random.Generator, counts=(3, 4), p=(0.6, 0.4)) -> str:
    count = int(rng.choice(counts, p=p))
    return "".join(SYLLABLES[int(i)] for i in rng.integers(0, len(SYLLABLES), count)).capitalize()


def _company(rng: np.random.Generator) -> tuple[str, str]:
    """(a company's name, the words of its website)."""
    words = [_word(rng)]
    if rng.random() < 0.6:
        words.append(_word(rng, (2, 3), (0.5, 0.5)))
    if rng.random() < 0.5:
        words.append(TRADE_WORDS[int(rng.integers(0, len(TRADE_WORDS)))])
    name = " ".join(words)
    if rng.random() < 0.3:
        name += " " + LEGAL_FORMS[int(rng.integers(0, len(LEGAL_FORMS)))]
    return name, "".join(words).lower()


def _typo(rng: np.random.Generator, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(rng.integers(1, len(letters) - 1))]
    kind = int(rng.integers(0, 4))
    if kind == 0 and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # swapped
    if kind == 1:
        return text[:i] + text[i + 1 :]  # dropped
    if kind == 2:
        return text[:i] + text[i] + text[i:]  # doubled
    return text[:i] + "aeiou"[int(rng.integers(0, 5))] + text[i + 1 :]  # replaced


def _duplicate(rng: np.random.Generator, name: str, host: str | None) -> tuple[str, str | None, list[str]]:
    """A planted duplicate of a company: (its name, its website as typed, what was changed)."""
    changes = []
    base = name
    for form in sorted(LEGAL_FORMS, key=len, reverse=True):
        if base.endswith(" " + form):
            base = base[: -len(form) - 1]
            break
    ops = set(rng.choice(["typo", "legal", "case", "web"], size=int(rng.integers(1, 3)), replace=False).tolist())
    new = base
    if "typo" in ops:
        new = _typo(rng, new)
        changes.append("typo")
    if "legal" in ops or new == base and base != name:
        new = f"{new}{',' if rng.random() < 0.3 else ''} {LEGAL_FORMS[int(rng.integers(0, len(LEGAL_FORMS)))]}"
        changes.append("legal form")
    elif base != name and "typo" in ops:
        new = f"{new} {name[len(base) + 1 :]}"
    if "case" in ops:
        new = new.upper() if rng.random() < 0.5 else new.lower()
        changes.append("case")
    website = None
    if host and ("web" in ops or rng.random() < 0.3):
        sub = SUBDOMAINS[int(rng.integers(0, len(SUBDOMAINS)))]
        typed = f"{sub}.{host}"
        if rng.random() < 0.5:
            typed = "www." + typed
        if rng.random() < 0.6:
            typed = ("https://" if rng.random() < 0.5 else "http://") + typed
        if rng.random() < 0.4:
            typed = typed.upper() if rng.random() < 0.5 else typed.title()
        if rng.random() < 0.4:
            typed += "/about"
        website = typed
        changes.append("website variant")
    if not changes or new == name:
        new = new.upper() if new != new.upper() else new.lower()
        changes.append("case")
    return new, website, changes


def build_world(n: int, seed: int = 21) -> tuple[list[tuple], list[tuple[int, int]], dict]:
    """(rows to load, planted (original index, duplicate index) pairs, figures)."""
    from accounts.matching import account_keys, normalise_domain

    rng = np.random.default_rng(seed)
    duplicates = n // 100
    originals = n - duplicates
    shares = np.array([c[2] for c in COUNTRIES])
    countries = rng.choice(len(COUNTRIES), originals, p=shares / shares.sum())
    hosts_taken: set[str] = set()
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    rows: list[tuple] = []
    companies: list[tuple[str, str | None, str]] = []
    for i in range(originals):
        country, suffix, _ = COUNTRIES[int(countries[i])]
        name, site = _company(rng)
        host = None
        if rng.random() < 0.8:
            host = f"{site}.{suffix}"
            k = 2
            while host in hosts_taken:
                host = f"{site}{k}.{suffix}"
                k += 1
            hosts_taken.add(host)
        companies.append((name, host, country))
    planted: list[tuple[int, int]] = []
    changes_seen: dict[str, int] = {}
    chosen = rng.choice(originals, duplicates, replace=False)
    extra: list[tuple[str, str | None, str]] = []
    for index in chosen.tolist():
        name, host, country = companies[index]
        new, website, changes = _duplicate(rng, name, host)
        dup_host = normalise_domain(website) if website else None
        if dup_host in hosts_taken:
            dup_host = None  # typed so that it is the original's own site: the importer would have updated it
        if dup_host:
            hosts_taken.add(dup_host)
        for change in changes:
            changes_seen[change] = changes_seen.get(change, 0) + 1
        planted.append((index, originals + len(extra)))
        extra.append((new, dup_host, country))
    # The duplicates arrive among the others, not after them: shuffle the load order.
    everyone = companies + extra
    order = rng.permutation(len(everyone))
    for slot in order.tolist():
        name, host, country = everyone[slot]
        keys = account_keys(name=name, domain=host)
        rows.append((name, host, f"b{slot}", "software", country, "", "", "[]", False, "{}", now, now,
                     keys["name_key"], keys["domain_key"]))  # fmt: skip
    return rows, planted, {"changes": changes_seen, "originals": originals, "duplicates": duplicates}


def _score(found: set[frozenset], truth: set[frozenset]) -> tuple[float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    return precision, recall


def main() -> None:
    django_on_fresh_database("revops_bench_duplicates")
    from django.db import connection

    from accounts.duplicates import duplicates_detect
    from accounts.models import Account, DuplicateCandidate
    from core.bulk import copy_rows

    n = max(2000, int(1_000_000 * scale()))
    started = time.monotonic()
    rows, planted, figures = build_world(n)
    built = time.monotonic() - started
    started = time.monotonic()
    for start in range(0, len(rows), 50_000):
        copy_rows(Account._meta.db_table, COLUMNS, rows[start : start + 50_000])
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Account._meta.db_table}")
    loaded = time.monotonic() - started
    ids = dict(Account.objects.values_list("external_id", "pk"))
    by_slot = [ids[f"b{slot}"] for slot in range(len(rows))]  # the account of each company, as built
    truth = {frozenset((by_slot[a], by_slot[b])) for a, b in planted}
    del rows
    changes = ", ".join(f"{k} {v:,}" for k, v in sorted(figures["changes"].items()))
    print(f"world: {n:,} accounts, {len(truth):,} planted duplicates ({changes}); built in {built:.1f} s with their "
          f"keys, loaded in {loaded:.1f} s")  # fmt: skip

    started = time.monotonic()
    result = duplicates_detect()
    seconds = time.monotonic() - started
    found = {frozenset(p) for p in DuplicateCandidate.objects.values_list("account_a_id", "account_b_id")}
    precision, recall = _score(found, truth)
    summary = result["summary"]
    print(f"duplicates job: {seconds:.1f} s for {summary['accounts']:,} accounts; {summary['pairs_compared']:,} pairs "
          f"compared (all pairs would be {n * (n - 1) // 2:,}); {len(found):,} candidate pairs")  # fmt: skip
    print(f"  precision {precision:.3f}, recall {recall:.3f}")
    scored = list(DuplicateCandidate.objects.values_list("account_a_id", "account_b_id", "score"))
    for cutoff in (90, 95, 99):
        kept = {frozenset((a, b)) for a, b, score in scored if score >= cutoff}
        p, r = _score(kept, truth)
        print(f"  pairs scoring {cutoff} or more: {len(kept):,}; precision {p:.3f}, recall {r:.3f}")
    wrong = [tuple(p) for p in found - truth][:5]
    if wrong:
        names = dict(Account.objects.filter(pk__in=[x for p in wrong for x in p]).values_list("pk", "name"))
        print("  not planted, e.g.: " + "; ".join(" / ".join(names[x] for x in p) for p in wrong))
    missed = [tuple(p) for p in truth - found][:5]
    if missed:
        names = dict(Account.objects.filter(pk__in=[x for p in missed for x in p]).values_list("pk", "name"))
        print("  missed, e.g.: " + "; ".join(" / ".join(names[x] for x in p) for p in missed))

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, b.id FROM accounts_account a JOIN accounts_account b "
            "ON a.domain_key = b.domain_key AND a.id < b.id WHERE a.domain_key IS NOT NULL"
        )
        by_domain = {frozenset(p) for p in cursor.fetchall()}
    domain_seconds = time.monotonic() - started
    d_precision, d_recall = _score(by_domain, truth)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, b.id FROM accounts_account a JOIN accounts_account b ON a.name_key = b.name_key "
            "AND lower(a.country) = lower(b.country) AND a.id < b.id WHERE a.name_key <> ''"
        )
        by_name = {frozenset(p) for p in cursor.fetchall()}
    name_seconds = time.monotonic() - started
    n_precision, n_recall = _score(by_name, truth)
    both_precision, both_recall = _score(by_domain | by_name, truth)
    print(f"baseline, exact normalised domain only: {domain_seconds:.1f} s; {len(by_domain):,} pairs; precision "
          f"{d_precision:.3f}, recall {d_recall:.3f}")  # fmt: skip
    print(f"baseline, exact normalised name within a country: {name_seconds:.1f} s; {len(by_name):,} pairs; "
          f"precision {n_precision:.3f}, recall {n_recall:.3f}")  # fmt: skip
    print(f"baseline, either exact match: precision {both_precision:.3f}, recall {both_recall:.3f}")
    within = seconds <= TARGET_SECONDS
    better = recall > both_recall
    print(f"target: duplicates job <= {TARGET_SECONDS} s: {'PASS' if within else 'FAIL'} ({seconds:.1f} s); "
          f"recall above the exact baselines': {'PASS' if better else 'FAIL'}")  # fmt: skip
    print(json.dumps({"seconds": round(seconds, 1), "precision": round(precision, 4), "recall": round(recall, 4)}))
    if not (within and better):
        sys.exit(1)


if __name__ == "__main__":
    main()
