"""Matching keys and how alike two accounts are: decided here, for the importer, the API, the duplicates job and the
benchmark alike.

- A **domain** is kept as its host: lower case, without scheme, path, port, user or a leading `www.`
  (`https://www.Shop.Acme.co.uk/about` is `shop.acme.co.uk`). Its **domain key** is the registrable domain under the
  public-suffix list, bundled with tldextract and read offline (`acme.co.uk`): two accounts with the same domain key
  are the same company, or a company and its site under another host.
- A company's **name key** folds case, accents and punctuation and drops the legal form at the end ("ACME, Inc.",
  "Acme GmbH" and "acme ltd." are all `acme`).
- Two names are compared on their keys with rapidfuzz's token-sort ratio (0-100: word order does not count).

Thresholds (also in the README):

- `NAME_CONFIDENT` (95): on import or through the API, a new account whose name is at least this alike to an
  existing account's, in the same country, with no domain or account ID that says otherwise, updates that account.
- `NAME_DOUBTFUL` (85): from here up to the confident threshold the account is created, and the likely duplicate is
  reported with the import's lines or in the API's answer.
- `DUPLICATE_MIN` (85): the duplicates job lists pairs scoring at least this (see `pair_score`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import tldextract
from rapidfuzz import fuzz, process

NAME_CONFIDENT = 95
NAME_DOUBTFUL = 85
DUPLICATE_MIN = 85
# Two accounts whose domains are both known and belong to different companies are unlikely to be one company,
# whatever their names say: their pair score loses this much.
OTHER_DOMAIN_PENALTY = 20

# The public-suffix list bundled with tldextract: never fetched (no network at run time, the same answer everywhere).
# Private suffixes count too, so that two shops on one hosting platform (a.myshopify.com, b.myshopify.com) are not
# one company.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)

_LEGAL_FORMS = """
    inc incorporated llc llp lp lllp pllc pc ltd limited gmbh mbh ag kg kgaa ohg ug sa sas sarl sasu srl spa sl slu
    bv nv corp corporation co company plc pty pte cv oy oyj ab as asa aps kk se ulc lc sro zoo sp
"""
LEGAL_SUFFIXES = frozenset(_LEGAL_FORMS.split())
# Words many companies share: two names alike only in these ("Loko Analytics", "Nalolo Analytics") are not alike.
_COMMON = """
    systems system solutions technologies technology tech labs lab logistics analytics energy foods food health
    healthcare software capital partners industries industrial robotics media networks network freight motors pharma
    pharmaceuticals studios studio foundry bank group holdings holding international global services service
    consulting consultants enterprises ventures digital data cloud security financial finance insurance
    manufacturing retail marketing design engineering construction properties realty management resources products
    trading traders transport communications telecom electronics medical biotech brands supply
"""
COMMON_WORDS = frozenset(_COMMON.split())
# Words that join a legal form to the name ("Acme & Co", "Acme and Company") go with it.
_JOINERS = frozenset({"and", "the"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DOTTED_INITIALS = re.compile(r"\b((?:[a-z]\.){2,})")  # s.a. / s.p.a. / b.v. -> sa / spa / bv
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise_domain(raw: str) -> str:
    """The host of a website or e-mail domain as typed: 'https://www.Example.com/about' -> 'example.com'."""
    value = raw.strip().lower()
    value = _SCHEME.sub("", value)
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    while value.startswith("www."):
        value = value[4:]
    return value


def domain_key(domain: str | None) -> str | None:
    """The registrable domain of a (normalised or raw) domain: 'shop.acme.co.uk' -> 'acme.co.uk'; None when there is
    none (no domain, or a name under no public suffix)."""
    if not domain:
        return None
    host = normalise_domain(domain)
    if not host:
        return None
    registrable = _extract(host).top_domain_under_public_suffix
    return registrable or None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def name_key(name: str | None) -> str:
    """A company name as matching reads it: 'ACME, Inc.' -> 'acme'; 'Müller & Söhne GmbH' -> 'muller and sohne'.
    The legal form is dropped only from the end, and never the whole name ('AG' stays 'ag')."""
    if not name:
        return ""
    text = _fold(name).replace("&", " and ").replace("+", " and ")
    text = _DOTTED_INITIALS.sub(lambda m: m.group(1).replace(".", ""), text)
    text = text.replace("'", "")
    words = _NOT_WORD.sub(" ", text).split()
    while len(words) > 1 and (words[-1] in LEGAL_SUFFIXES or words[-1] in _JOINERS):
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)[:255]


def country_key(country: str | None) -> str:
    return _fold(country or "").strip()


def account_keys(*, name: str | None, domain: str | None) -> dict[str, str | None]:
    """The matching keys an account stores (Account.name_key, Account.domain_key)."""
    return {"name_key": name_key(name), "domain_key": domain_key(domain)}


@functools.lru_cache(maxsize=100_000)
def _common(word: str) -> bool:
    """A word many companies share, or that word with a typo ("Netwokrs")."""
    if word in COMMON_WORDS:
        return True
    return len(word) >= 5 and process.extractOne(word, COMMON_WORDS, scorer=fuzz.ratio, score_cutoff=80) is not None


def distinctive(key: str) -> str:
    """A name key without the words many companies share (COMMON_WORDS, typos included); the whole key when nothing
    else is left."""
    words = [w for w in key.split() if not _common(w)]
    return " ".join(words) if words else key


def name_similarity(a: str, b: str) -> float:
    """How alike two name keys are, 0-100: their token-sort ratio (word order does not count); when both names hold
    words many companies share, no more than the ratio of their other words, so that a shared trade word
    ("Loko Analytics", "Nalolo Analytics") does not make two names alike."""
    if not a or not b:
        return 0.0
    full = fuzz.token_sort_ratio(a, b)
    own_a, own_b = distinctive(a), distinctive(b)
    if own_a == a or own_b == b:
        return full
    return min(full, fuzz.token_sort_ratio(own_a, own_b))


@dataclass
class Evidence:
    """Why two accounts may be one company, with the score it adds up to (0-100)."""

    score: float
    same_domain: bool = False
    other_domains: bool = False
    name_similarity: float = 0.0
    same_country: bool = False
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "score": round(self.score, 1),
            "same_domain": self.same_domain,
            "other_domains": self.other_domains,
            "name_similarity": round(self.name_similarity, 1),
            "same_country": self.same_country,
            "reasons": self.reasons,
        }


def same_site(host_a: str | None, key_a: str | None, host_b: str | None, key_b: str | None) -> bool | None:
    """Do two accounts' domains say they are one company? True: the same host, or one is the other's registrable
    domain (acme.co.uk and shop.acme.co.uk); False: both known, under different registrable domains; None: nothing
    to tell (one is unknown, or two sibling hosts of one registrable domain, such as eu.acme.com and us.acme.com:
    often two subsidiaries)."""
    if not key_a or not key_b:
        return None
    if key_a != key_b:
        return False
    if host_a in (host_b, key_a) or host_b == key_b:
        return True
    return None


def pair_score(
    *,
    name_a: str,
    name_b: str,
    domain_a: str | None,
    domain_b: str | None,
    country_a: str,
    country_b: str,
    host_a: str | None = None,
    host_b: str | None = None,
) -> Evidence:
    """How likely two accounts (their name keys, domain keys, countries and hosts) are one company, with the
    evidence:

    - the same site (see `same_site`): 90, plus up to 10 as the names agree;
    - else their names' similarity, when they are in the same country (or both have none); less
      OTHER_DOMAIN_PENALTY when both domains are known and differ;
    - in different countries, without the same site: 0 (a name alone does not cross borders).
    """
    similarity = name_similarity(name_a, name_b)
    same_country = country_a == country_b
    evidence = Evidence(score=0.0, name_similarity=similarity, same_country=same_country)
    site = same_site(host_a or domain_a, domain_a, host_b or domain_b, domain_b)
    if site:
        evidence.same_domain = True
        evidence.score = 90 + similarity / 10
        evidence.reasons.append(f"same domain ({domain_a})")
    elif same_country:
        evidence.score = similarity
        if site is False:
            evidence.other_domains = True
            evidence.score = max(0.0, similarity - OTHER_DOMAIN_PENALTY)
    evidence.reasons.append(f"names {similarity:.0f}% alike")
    if same_country:
        evidence.reasons.append("same country" if country_a else "no country on either")
    else:
        evidence.reasons.append("different countries")
    if evidence.other_domains:
        evidence.reasons.append(f"different domains ({domain_a}, {domain_b})")
    return evidence
