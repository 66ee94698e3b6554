"""The lookalike score (pure: plain rows in, numbers and words out; no ORM): how much an account resembles the
accounts won lately (the reference set), 0-100, with the reasons.

**Traits.** An account is encoded as the traits a revenue team compares companies by, each a column of a sparse
matrix: its industry and country, its employee and revenue bands (powers of ten: "1k–10k employees", "$10M–100M
revenue"), the decade it was founded in, each technology it uses among the frequent ones of the won accounts
("uses Salesforce"), and each frequent key and value of its `attributes` ("Lead source: Partner"). Only traits seen
on at least MIN_WINNERS won accounts are columns (on one, while fewer than FEW_WINNERS accounts are won), at most
MAX_TECHNOLOGIES technologies and MAX_ATTRIBUTE_VALUES attribute values: a trait no winner has cannot make an
account resemble winners. Each column carries a weight (WEIGHTS): the industry counts most, the decade founded
least. Rows are scaled to length 1.

**Neighbours.** Exact: scikit-learn's NearestNeighbors, brute force, euclidean on rows of length 1 (which orders
exactly as cosine does: |a - b|^2 = 2 - 2 cos(a, b)); scikit-learn computes it in chunks with a bounded heap per
account on every core, so a million accounts against twenty thousand won ones take about a minute. K + 1 won
accounts are asked for, so that an account that is itself won can be left out of its own neighbours; the cosine
similarity of those kept is then read exactly from the sparse traits.

**The score** = 100 x the mean cosine similarity of the account's traits with those of its K nearest won accounts
(cosine distance d -> similarity 1 - d). 100: its K nearest winners have exactly its traits; 0: it shares nothing
with any winner (or has no known trait). A missing neighbour (fewer than K won accounts) counts 0. With no won
account in the period there is no score (null).

**Shared traits**: the account's traits that at least half of its K nearest won accounts have too, best weighted
first.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from accounts.criteria import money

K = 5  # nearest won accounts the score averages over
MAX_CATEGORIES = 60  # industries, countries kept
MAX_TECHNOLOGIES = 40
MAX_ATTRIBUTE_VALUES = 30
MIN_WINNERS = 2  # a trait is a column when at least this many won accounts have it (1 while there are few of them)
FEW_WINNERS = 20
MAX_SHOWN_TRAITS = 6
WEIGHTS = {"industry": 1.0, "employees": 0.8, "revenue": 0.8, "country": 0.7, "tech": 0.6, "attr": 0.6, "founded": 0.4}
KIND_ORDER = list(WEIGHTS)
MAX_VALUE_LENGTH = 60  # longer attribute text is prose, not a trait

# The columns read of an account.
COLUMNS = ("id", "industry", "country", "employee_count", "annual_revenue", "year_founded", "technologies",
           "attributes")  # fmt: skip

EMPLOYEE_BANDS = ["1–10", "10–100", "100–1k", "1k–10k", "10k–100k", "100k+"]
REVENUE_EDGES = [1e6, 1e7, 1e8, 1e9]


def employee_band(count: Any) -> int | None:
    """The power-of-ten band of a head count: 0 for 1-9, 1 for 10-99, ... 5 for 100,000 and more."""
    if count is None or isinstance(count, bool):
        return None
    try:
        number = float(count)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 1:
        return None
    return min(int(math.log10(number)), len(EMPLOYEE_BANDS) - 1)


def revenue_band(amount: Any) -> int | None:
    if amount is None or isinstance(amount, bool):
        return None
    try:
        number = float(amount)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return sum(number >= edge for edge in REVENUE_EDGES)


def revenue_band_words(band: int) -> str:
    if band == 0:
        return f"under {money(REVENUE_EDGES[0])} revenue"
    if band == len(REVENUE_EDGES):
        return f"{money(REVENUE_EDGES[-1])}+ revenue"
    return f"{money(REVENUE_EDGES[band - 1])}–{money(REVENUE_EDGES[band]).lstrip('$')} revenue"


SPACES = " \t\n\r\f\v"


def _text(value: Any) -> str:
    return value.strip(SPACES).lower() if isinstance(value, str) else ""


def _scalar(value: Any) -> str | None:
    """An attribute value as a trait: short text, numbers and yes/no; None for lists, objects and long text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and math.isfinite(value):
        return str(int(value)) if value == int(value) else repr(float(value))
    if isinstance(value, str) and 0 < len(value.strip(SPACES)) <= MAX_VALUE_LENGTH:
        return value.strip(SPACES).lower()
    return None


def account_traits(row: Mapping[str, Any]) -> list[tuple]:
    """The traits of an account row (COLUMNS), as keys: ("industry", "software"), ("employees", 3), ("tech",
    "salesforce"), ("attr", "lead_source", "partner")..."""
    traits: list[tuple] = []
    for kind in ("industry", "country"):
        value = _text(row.get(kind))
        if value:
            traits.append((kind, value))
    band = employee_band(row.get("employee_count"))
    if band is not None:
        traits.append(("employees", band))
    band = revenue_band(row.get("annual_revenue"))
    if band is not None:
        traits.append(("revenue", band))
    year = row.get("year_founded")
    if isinstance(year, int | float) and not isinstance(year, bool) and 1000 <= year <= 2100:
        traits.append(("founded", int(year) // 10 * 10))
    technologies = row.get("technologies")
    if isinstance(technologies, list):
        traits.extend({("tech", t) for t in (_text(x) for x in technologies) if t})
    attributes = row.get("attributes")
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            text = _scalar(value)
            if text is not None:
                traits.append(("attr", str(key), text))
    return traits


@dataclass
class Vocabulary:
    """The trait columns, learned from the won accounts."""

    keys: list[tuple] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    index: dict[tuple, int] = field(default_factory=dict)
    attribute_keys: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return len(self.keys)


def vocabulary_learn(reference_rows: Sequence[Mapping[str, Any]]) -> Vocabulary:
    """The columns: each trait at least MIN_WINNERS won accounts share, the most frequent first within each kind
    (capped per kind), labelled in words as first written."""
    counts: Counter = Counter()
    written: dict[tuple, str] = {}
    for row in reference_rows:
        for trait in set(account_traits(row)):
            counts[trait] += 1
            if trait not in written:
                written[trait] = _written(row, trait)
    caps = {"industry": MAX_CATEGORIES, "country": MAX_CATEGORIES, "tech": MAX_TECHNOLOGIES,
            "attr": MAX_ATTRIBUTE_VALUES}  # fmt: skip
    vocabulary = Vocabulary()
    least = MIN_WINNERS if len(reference_rows) >= FEW_WINNERS else 1
    for kind in KIND_ORDER:
        kept = (t for t in counts if t[0] == kind and counts[t] >= least)
        frequent = sorted(kept, key=lambda t: (-counts[t], str(t)))
        for trait in frequent[: caps.get(kind, len(frequent))]:
            vocabulary.index[trait] = len(vocabulary.keys)
            vocabulary.keys.append(trait)
            vocabulary.labels.append(written[trait])
    vocabulary.weights = np.array([WEIGHTS[t[0]] for t in vocabulary.keys], np.float32)
    vocabulary.attribute_keys = frozenset(t[1] for t in vocabulary.keys if t[0] == "attr")
    return vocabulary


def _written(row: Mapping[str, Any], trait: tuple) -> str:
    """A trait in words, as the account writes it: "Software", "1k–10k employees", "uses Salesforce"."""
    kind = trait[0]
    if kind in ("industry", "country"):
        return str(row.get(kind) or "").strip()
    if kind == "employees":
        return f"{EMPLOYEE_BANDS[trait[1]]} employees"
    if kind == "revenue":
        return revenue_band_words(trait[1])
    if kind == "founded":
        return f"founded in the {trait[1]}s"
    if kind == "tech":
        name = next((str(t).strip() for t in row.get("technologies") or [] if _text(t) == trait[1]), trait[1])
        return f"uses {name}"
    value = (row.get("attributes") or {}).get(trait[1])
    shown = value if isinstance(value, str) else _scalar(value)
    return f"{trait[1].replace('_', ' ').strip().capitalize()}: {str(shown).strip()}"


def encode(rows: Sequence[Mapping[str, Any]], vocabulary: Vocabulary) -> sp.csr_matrix:
    """The rows as a sparse matrix of weighted traits (one column per vocabulary trait), without scaling."""
    index = vocabulary.index
    return matrix_from_columns([[index[t] for t in account_traits(row) if t in index] for row in rows], vocabulary)


def matrix_from_columns(columns: Sequence[Sequence[int]], vocabulary: Vocabulary) -> sp.csr_matrix:
    """Each row's trait columns (in any order, repeats allowed) as the weighted sparse matrix `encode` makes."""
    lengths = np.fromiter((len(c) for c in columns), dtype=np.int64, count=len(columns))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.fromiter((c for row in columns for c in row), dtype=np.int32, count=int(indptr[-1]))
    matrix = sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(len(columns), vocabulary.size))
    matrix.sum_duplicates()
    matrix.data = vocabulary.weights[matrix.indices].astype(np.float32)
    return matrix


def lookup_arrays(vocabulary: Vocabulary) -> dict[str, list]:
    """The vocabulary as arrays, for encoding accounts where they are stored (the SQL of services/lookalikes.py):
    <kind>_keys (the normalised values) and <kind>_cols (their columns); band and decade columns by position."""
    arrays: dict[str, list] = {}
    for kind in ("industry", "country", "tech", "founded"):
        traits = [t for t in vocabulary.keys if t[0] == kind]
        arrays[f"{kind}_keys"] = [t[1] for t in traits]
        arrays[f"{kind}_cols"] = [vocabulary.index[t] for t in traits]
    arrays["employees_cols"] = [vocabulary.index.get(("employees", b)) for b in range(len(EMPLOYEE_BANDS))]
    arrays["revenue_cols"] = [vocabulary.index.get(("revenue", b)) for b in range(len(REVENUE_EDGES) + 1)]
    traits = [t for t in vocabulary.keys if t[0] == "attr"]
    arrays["attr_keys"] = [t[1] for t in traits]
    arrays["attr_values"] = [t[2] for t in traits]
    arrays["attr_cols"] = [vocabulary.index[t] for t in traits]
    return arrays


@dataclass
class Reference:
    """The won accounts, indexed."""

    ids: np.ndarray  # account ids
    matrix: sp.csr_matrix  # their traits, rows of length 1
    vocabulary: Vocabulary
    index: NearestNeighbors | None

    @property
    def size(self) -> int:
        return len(self.ids)


def reference_build(rows: Sequence[Mapping[str, Any]], *, vocabulary: Vocabulary | None = None) -> Reference:
    """Index the won accounts (rows with COLUMNS)."""
    vocabulary = vocabulary or vocabulary_learn(rows)
    ids = np.array([int(r["id"]) for r in rows], dtype=np.int64)
    matrix = encode(rows, vocabulary)
    if not len(ids) or not vocabulary.size:
        return Reference(ids=ids, matrix=matrix, vocabulary=vocabulary, index=None)
    matrix = unit_rows(matrix)
    index = NearestNeighbors(algorithm="brute", metric="euclidean").fit(matrix.toarray())
    return Reference(ids=ids, matrix=matrix, vocabulary=vocabulary, index=index)


@dataclass
class Scored:
    """One chunk of accounts scored: scores (0-100, 1 decimal), the reference positions of their nearest won accounts
    (-1 where fewer), and the vocabulary columns of the traits they share with most of them."""

    ids: np.ndarray
    scores: np.ndarray
    neighbours: np.ndarray
    shared: list[np.ndarray]


def score_rows(rows: Sequence[Mapping[str, Any]], reference: Reference, *, k: int = K) -> Scored:
    """Score accounts (rows with COLUMNS) against the won accounts: see the module's description."""
    ids = np.array([int(r["id"]) for r in rows], dtype=np.int64)
    return score_matrix(ids, unit_rows(encode(rows, reference.vocabulary)), reference, k=k)


def unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to length 1 (a row with no trait stays empty)."""
    if not matrix.shape[0] or not matrix.shape[1]:
        return matrix.astype(np.float32)
    return normalize(matrix).astype(np.float32)


def score_matrix(ids: np.ndarray, matrix: sp.csr_matrix, reference: Reference, *, k: int = K) -> Scored:
    n = len(ids)
    neighbours = np.full((n, k), -1, dtype=np.int64)
    similarity = np.zeros((n, k), dtype=np.float32)
    if n and reference.index is not None:
        wanted = min(reference.size, k + 1)  # +1: the account itself may be among them
        _, candidates = reference.index.kneighbors(matrix.toarray(), n_neighbors=wanted)
        exact = np.empty(candidates.shape, dtype=np.float32)
        for j in range(candidates.shape[1]):
            exact[:, j] = np.asarray(matrix.multiply(reference.matrix[candidates[:, j]]).sum(axis=1)).ravel()
        exact[reference.ids[candidates] == ids[:, None]] = -1.0  # never its own neighbour
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        best = np.take_along_axis(exact, order, axis=1)
        found = best >= 0
        taken = min(k, order.shape[1])
        neighbours[:, :taken] = np.where(found, np.take_along_axis(candidates, order, axis=1), -1)
        similarity[:, :taken] = np.where(found, np.clip(best, 0.0, 1.0), 0.0)
    scores = np.round(100.0 * similarity.mean(axis=1), 1) if k else np.zeros(n)
    return Scored(ids=ids, scores=scores, neighbours=neighbours, shared=shared_traits(matrix, reference, neighbours))


def shared_traits(matrix: sp.csr_matrix, reference: Reference, neighbours: np.ndarray) -> list[np.ndarray]:
    """For each account, its trait columns that at least half of its nearest won accounts have too, best weighted
    and most shared first (at most MAX_SHOWN_TRAITS)."""
    n, k = neighbours.shape
    if not n or reference.index is None:
        return [np.zeros(0, np.int64) for _ in range(n)]
    have = (matrix > 0).astype(np.float32).tocsr()
    blank = sp.csr_matrix((1, have.shape[1]), dtype=np.float32)
    reference_have = sp.vstack([(reference.matrix > 0).astype(np.float32), blank]).tocsr()  # row -1: no neighbour
    counts = sp.csr_matrix(have.shape, dtype=np.float32)
    for j in range(k):
        counts = counts + have.multiply(reference_have[neighbours[:, j]])
    counts = counts.tocsr()
    counts.sum_duplicates()
    row_of = np.repeat(np.arange(n), np.diff(counts.indptr))
    needed = np.maximum(1.0, np.ceil((neighbours >= 0).sum(axis=1) / 2))
    keep = counts.data >= needed[row_of]
    rows, columns, times = row_of[keep], counts.indices[keep].astype(np.int64), counts.data[keep]
    order = np.lexsort((columns, -times, -reference.vocabulary.weights[columns], rows))
    rows, columns = rows[order], columns[order]
    starts = np.searchsorted(rows, np.arange(n + 1))
    rank = np.arange(len(rows)) - starts[rows]
    kept = rank < MAX_SHOWN_TRAITS
    rows, columns = rows[kept], columns[kept]
    return np.split(columns, np.searchsorted(rows, np.arange(1, n)))


def auc(positives: Iterable[float], negatives: Iterable[float]) -> float:
    """The probability that a positive scores above a negative (ties count half): the area under the ROC curve."""
    from sklearn.metrics import roc_auc_score

    pos, neg = list(positives), list(negatives)
    if not pos or not neg:
        return float("nan")
    return float(roc_auc_score([1] * len(pos) + [0] * len(neg), pos + neg))
