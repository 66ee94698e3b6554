"""Matching new accounts against the ones we have (import, API) and finding the duplicates already there (a job).

Before an account is created it is matched (`match_records`): by domain key first, then by name within the same
country (accounts/matching.py has the keys, the scores and the thresholds). Its name's candidates are the accounts
whose name key starts as its does: four letters, more while that block holds over MAX_PREFIX_CANDIDATES accounts (a
key whose block stays that large matches only the same name). A confident match updates the existing account
instead; a doubtful one still creates the account, and is reported.

The duplicates job (`duplicates_detect`) never compares all pairs. It compares accounts within blocks:
- the same domain key (a block larger than MAX_DOMAIN_BLOCK is a shared mail or hosting domain, and is skipped);
- within one country, the same first PREFIX letters of the name key, and the same last PREFIX letters (so a typo
  anywhere but in both ends still shares a block); a block larger than MAX_NAME_BLOCK is compared in a sliding
  window of its sorted names (WINDOW neighbours) instead of all its pairs.
Pairs scoring at least DUPLICATE_MIN are kept (DuplicateCandidate), best first, for the duplicates page.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Substr
from rapidfuzz import fuzz, process

from core.jobs import job_create, job_progress, job_run
from core.models import Job

from .matching import (
    DUPLICATE_MIN,
    NAME_CONFIDENT,
    NAME_DOUBTFUL,
    Evidence,
    account_keys,
    country_key,
    domain_key,
    name_key,
    normalise_domain,
    pair_score,
)
from .models import Account, DuplicateCandidate

PREFIX = 4
MAX_DOMAIN_BLOCK = 50
MAX_NAME_BLOCK = 2000
WINDOW = 50
PREFIX_QUERY_BATCH = 200
PREFIX_LENGTHS = (4, 8, 12, 16)
MAX_PREFIX_CANDIDATES = 2000
MATCH_CANDIDATES = 20  # per incoming record: its closest names, weighed in full with domain and country
KEYS_BATCH = 5000


# Matching one batch of new records -----------------------------------------------------------------------------------


@dataclass
class Match:
    """An existing account that an incoming record may be: `confident` updates it, else it is only reported."""

    account: Account
    confident: bool
    evidence: Evidence
    why_not_confident: str = ""

    def as_dict(self) -> dict:
        return {
            "account": self.account.pk,
            "name": self.account.name,
            "confident": self.confident,
            **self.evidence.as_dict(),
        }

    def words(self) -> str:
        what = f"account #{self.account.pk} “{self.account.name}”"
        why = ", ".join(self.evidence.reasons)
        if self.confident:
            return f"Matched {what} ({why}, score {self.evidence.score:.0f}): updated it instead of adding a duplicate."
        extra = f"; {self.why_not_confident}" if self.why_not_confident else ""
        return (
            f"Possible duplicate of {what} ({why}, score {self.evidence.score:.0f}{extra}): added as a new account; "
            "check it on the duplicates page."
        )


FIELDS = ("pk", "name", "name_key", "domain", "domain_key", "country", "external_id")


def _startswith(prefixes: list[str]) -> Q:
    query = Q()
    for prefix in prefixes:
        query |= Q(name_key__startswith=prefix)
    return query


def _name_pools(keys: set[str]) -> tuple[dict[str, list[Account]], dict[str, str]]:
    """The accounts whose names may match `keys`, by blocks: ({block: accounts}, {key: its block}). A key's block
    is the accounts whose name key starts as it does, PREFIX letters first, longer while that block holds more than
    MAX_PREFIX_CANDIDATES ("Account 1", "Account 2"... share a long start); a key whose block stays too large
    matches only the same name."""
    pools: dict[str, list[Account]] = {}
    block_of: dict[str, str] = {}
    pending = {k for k in keys if k}
    for length in PREFIX_LENGTHS:
        if not pending:
            break
        prefixes = sorted({k[:length] for k in pending})
        counts: dict[str, int] = defaultdict(int)
        for start in range(0, len(prefixes), PREFIX_QUERY_BATCH):
            batch = prefixes[start : start + PREFIX_QUERY_BATCH]
            rows = (
                Account.objects.filter(_startswith(batch))
                .annotate(block=Substr("name_key", 1, length))
                .values("block")
                .annotate(n=Count("pk"))
                .values_list("block", "n")
            )
            for block, n in rows:
                counts[block] += n
        small = [p for p in prefixes if counts.get(p, 0) <= MAX_PREFIX_CANDIDATES]
        small_set = set(small)
        for p in small:
            pools[p] = []
        for start in range(0, len(small), PREFIX_QUERY_BATCH):
            batch = small[start : start + PREFIX_QUERY_BATCH]
            for account in Account.objects.filter(_startswith(batch)).only(*FIELDS):
                # Every block it starts with: a short key ("00") is a block of its own beside a longer one ("0000").
                for end in range(1, length + 1):
                    if account.name_key[:end] in small_set:
                        pools[account.name_key[:end]].append(account)
        for key in list(pending):
            if key[:length] in small_set:
                block_of[key] = key[:length]
                pending.discard(key)
    if pending:  # too common a start even at the longest prefix: the same name only
        for key in pending:
            pools["=" + key] = []
            block_of[key] = "=" + key
        for account in Account.objects.filter(name_key__in=pending).only(*FIELDS):
            pools["=" + account.name_key].append(account)
    return pools, block_of


def _decide(record: dict, candidate: Account, evidence: Evidence) -> Match | None:
    if evidence.score < NAME_DOUBTFUL:
        return None
    external_id = record.get("external_id")
    if external_id and candidate.external_id and candidate.external_id != external_id:
        return Match(candidate, False, evidence, f"it has another account ID ({candidate.external_id})")
    if evidence.same_domain:
        return Match(candidate, True, evidence)
    if evidence.score >= NAME_CONFIDENT:
        return Match(candidate, True, evidence)
    return Match(candidate, False, evidence, f"below the {NAME_CONFIDENT} needed to update it")


def match_records(records: list[dict]) -> list[Match | None]:
    """For each record (name, domain, country, external_id), the existing account it most likely is, if any."""
    if not records:
        return []
    keys = [name_key(r.get("name")) for r in records]
    domain_keys = {k for k in (domain_key(r.get("domain")) for r in records) if k}
    by_domain: dict[str, list[Account]] = defaultdict(list)
    if domain_keys:
        for account in Account.objects.filter(domain_key__in=domain_keys).only(*FIELDS):
            by_domain[account.domain_key].append(account)
    pools, block_of = _name_pools(set(keys))
    # Names are compared in C (rapidfuzz), a block's names at once; only the close ones are weighed in full.
    pool_names = {block: [_sorted_tokens(a.name_key or "") for a in accounts] for block, accounts in pools.items()}
    matches: list[Match | None] = []
    for record in records:
        key, dkey, country = name_key(record.get("name")), domain_key(record.get("domain")), record.get("country")
        host = normalise_domain(record["domain"]) if record.get("domain") else None
        block = block_of.get(key)
        close = process.extract(
            _sorted_tokens(key), pool_names.get(block, []), scorer=fuzz.ratio, score_cutoff=NAME_DOUBTFUL,
            limit=MATCH_CANDIDATES,
        )  # fmt: skip
        pool = {a.pk: a for a in by_domain.get(dkey or "", [])}
        for _text, _score, at in close:
            account = pools[block][at]
            pool[account.pk] = account
        best: tuple[float, Account, Evidence] | None = None
        for account in pool.values():
            evidence = pair_score(
                name_a=key, name_b=account.name_key or "", domain_a=dkey, domain_b=account.domain_key,
                country_a=country_key(country), country_b=country_key(account.country), host_a=host,
                host_b=account.domain,
            )  # fmt: skip
            if best is None or evidence.score > best[0] or (evidence.score == best[0] and account.pk < best[1].pk):
                best = (evidence.score, account, evidence)
        matches.append(_decide(record, best[1], best[2]) if best else None)
    return matches


def matched_values(values: dict, account: Account) -> dict:
    """What a record confidently matched to `account` changes there: everything it gives, except that it does not
    rename the account, nor replace the domain or account ID it has (it fills them when they are empty)."""
    kept = {k: v for k, v in values.items() if k not in ("name", "domain", "external_id")}
    for name in ("domain", "external_id"):
        if values.get(name) and not getattr(account, name):
            kept[name] = values[name]
    return kept


# Finding the duplicates already there --------------------------------------------------------------------------------


def keys_fill_missing(*, batch: int = KEYS_BATCH) -> int:
    """Compute the matching keys of accounts written without them (bulk loads straight into the table); returns
    how many were filled."""
    filled = 0
    while True:
        accounts = list(
            Account.objects.filter(name_key__isnull=True).order_by("pk").only("pk", "name", "domain")[:batch]
        )
        if not accounts:
            return filled
        for account in accounts:
            keys = account_keys(name=account.name, domain=account.domain)
            account.name_key, account.domain_key = keys["name_key"] or "", keys["domain_key"]
        Account.objects.bulk_update(accounts, ["name_key", "domain_key"])
        filled += len(accounts)


@dataclass
class Detection:
    accounts: int = 0
    compared: int = 0
    pairs: dict | None = None  # (low index, high index) -> Evidence
    skipped_domains: int = 0
    windowed_blocks: int = 0
    seconds: float = 0.0


def _sorted_tokens(key: str) -> str:
    return " ".join(sorted(key.split()))


def detect_pairs(
    names: list[str],
    domains: list[str | None],
    countries: list[str],
    hosts: list[str | None] | None = None,
    *,
    minimum: float = DUPLICATE_MIN,
) -> Detection:
    """Candidate pairs among accounts given by index (name keys, domain keys, country keys, domains as kept), by
    blocks: see the module's docstring. Pure: the benchmark runs it on its own lists too."""
    hosts = hosts if hosts is not None else domains
    started = time.monotonic()
    found = Detection(accounts=len(names), pairs={})
    compare_names = [_sorted_tokens(n) for n in names]  # ratio on sorted tokens is token_sort_ratio

    def consider(i: int, j: int) -> None:
        if i == j:
            return
        low, high = (i, j) if i < j else (j, i)
        if (low, high) in found.pairs:
            return
        evidence = pair_score(
            name_a=names[low], name_b=names[high], domain_a=domains[low], domain_b=domains[high],
            country_a=countries[low], country_b=countries[high], host_a=hosts[low], host_b=hosts[high],
        )  # fmt: skip
        if evidence.score >= minimum:
            found.pairs[(low, high)] = evidence

    by_domain: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(domains):
        if key:
            by_domain[key].append(index)
    for members in by_domain.values():
        if len(members) < 2:
            continue
        if len(members) > MAX_DOMAIN_BLOCK:
            found.skipped_domains += 1
            continue
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                found.compared += 1
                consider(members[a], members[b])

    blocks: dict[tuple, list[int]] = defaultdict(list)
    for index, key in enumerate(names):
        compact = key.replace(" ", "")
        if not compact:
            continue
        blocks[(countries[index], 0, compact[:PREFIX])].append(index)
        blocks[(countries[index], 1, compact[-PREFIX:])].append(index)
    for (_country, end, _letters), members in blocks.items():
        if len(members) < 2:
            continue
        if len(members) <= MAX_NAME_BLOCK:
            _compare_all(members, compare_names, minimum, found, consider)
        else:
            found.windowed_blocks += 1
            # Sorted from the end that the block does not share, so that close names sit side by side.
            order = sorted(members, key=(lambda i: compare_names[i]) if end else (lambda i: compare_names[i][::-1]))
            for start in range(0, len(order), WINDOW):
                left = order[start : start + WINDOW]
                right = order[start : start + 2 * WINDOW]
                _compare_lists(left, right, compare_names, minimum, found, consider)
    found.seconds = time.monotonic() - started
    return found


def _compare_all(members, compare_names, minimum, found, consider) -> None:
    texts = [compare_names[i] for i in members]
    scores = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=minimum, dtype=np.uint8, workers=1)
    found.compared += len(members) * (len(members) - 1) // 2
    rows, cols = np.nonzero(np.triu(scores, k=1))
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        consider(members[r], members[c])


def _compare_lists(left, right, compare_names, minimum, found, consider) -> None:
    scores = process.cdist(
        [compare_names[i] for i in left], [compare_names[i] for i in right],
        scorer=fuzz.ratio, score_cutoff=minimum, dtype=np.uint8, workers=1,
    )  # fmt: skip
    found.compared += len(left) * len(right)
    rows, cols = np.nonzero(scores)
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        consider(left[r], right[c])


def duplicates_detect(*, progress: Callable[[int, int], None] | None = None) -> dict:
    """Find the candidate pairs among every account and keep them (replacing the last run's); returns the figures."""
    started = time.monotonic()
    filled = keys_fill_missing()
    ids: list[int] = []
    names: list[str] = []
    domains: list[str | None] = []
    countries: list[str] = []
    hosts: list[str | None] = []
    rows = Account.objects.order_by().values_list("pk", "name_key", "domain_key", "country", "domain")
    for pk, key, dkey, country, host in rows.iterator(chunk_size=20_000):
        ids.append(pk)
        names.append(key or "")
        domains.append(dkey)
        countries.append(country_key(country))
        hosts.append(host)
    if progress:
        progress(1, 3)
    found = detect_pairs(names, domains, countries, hosts)
    if progress:
        progress(2, 3)
    with transaction.atomic():
        DuplicateCandidate.objects.all().delete()
        DuplicateCandidate.objects.bulk_create(
            (
                DuplicateCandidate(
                    account_a_id=ids[a], account_b_id=ids[b], score=round(e.score, 1), evidence=e.as_dict()
                )
                for (a, b), e in found.pairs.items()
            ),
            batch_size=2000,
        )
    notes = []
    if found.skipped_domains:
        notes.append(
            f"{found.skipped_domains:,} domains shared by more than {MAX_DOMAIN_BLOCK} accounts were not compared by "
            "domain (mail or hosting domains)."
        )
    return {
        "summary": {
            "accounts": found.accounts,
            "keys_computed": filled,
            "pairs_compared": found.compared,
            "candidate_pairs": len(found.pairs),
            "seconds": round(time.monotonic() - started, 1),
        },
        "notes": notes,
    }


def duplicates_job_create(*, by) -> Job:
    return job_create(kind=Job.Kind.OTHER, created_by=by, title="Find duplicate accounts", params={"duplicates": True})


def duplicates_job_run(*, job: Job) -> Job:
    return job_run(
        job=job,
        work=lambda j: duplicates_detect(progress=lambda done, total: job_progress(job=j, done=done, total=total)),
    )


def duplicates_job_enqueue(*, job: Job) -> None:
    from .tasks import duplicates_task

    transaction.on_commit(lambda: duplicates_task.delay(job.pk))


def duplicate_jobs() -> Iterable[Job]:
    return Job.objects.filter(kind=Job.Kind.OTHER, params__duplicates=True).order_by("-created_at", "-id")
