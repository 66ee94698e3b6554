"""The signal batch's lean check (accounts/apis/signal_items.py) answers as `SignalSerializer(many=True)` does: the
same values for what it accepts, the same messages in the same batch shape for what it refuses, whatever is sent."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.apis.batches import SignalSerializer, _refused, _validated
from accounts.apis.signal_items import SignalItems
from core.apis import MAX_ID

FIELDS = ["account", "contact", "kind", "topic", "occurred_at", "source", "external_id"]


def by_serializer(items: list[dict]) -> tuple[list[dict], list[dict] | None]:
    """What the view did before: the serializer's records (references renamed as the importer takes them), or its
    errors as the 400 shows them."""
    records, refusal = _validated(SignalSerializer, items)
    if refusal is not None:
        return [], refusal.data["errors"]
    for record in records:
        record["account"] = record.pop("account_id")
        record["contact"] = record.pop("contact_id", None)
    return records, None


def by_lean_check(items: list[dict]) -> tuple[list[dict], list[dict] | None]:
    checked, errors = SignalItems(SignalSerializer).check(items)
    if errors:
        return [], _refused(errors).data["errors"]
    return [item.record() for item in checked], None


def same(records: list[dict], expected: list[dict]) -> None:
    """The lean check gives every field (None where the serializer left it out, as the importer reads it)."""
    assert len(records) == len(expected)
    for got, want in zip(records, expected, strict=True):
        for name in FIELDS:
            assert got[name] == want.get(name), (name, got, want)
            if isinstance(want.get(name), dt.datetime):
                assert got[name].utcoffset() == want[name].utcoffset()


texts = st.one_of(
    st.sampled_from(["web_visit", "Web Visit", " meeting ", "web-visit", "", "   ", "Web Visit!", "x" * 61, "a\x00b",
                     "\ud800", "pricing", "é", "1_2", "a" * 120, " " + "a" * 120, "a" * 121, "E1", " E1 ", "x" * 255,
                     "x" * 256, " " + "x" * 255 + " "]),
    st.text(max_size=8),
)  # fmt: skip
ids = st.one_of(
    st.integers(min_value=-2, max_value=5),
    st.sampled_from(
        [MAX_ID, MAX_ID + 1, 10**30, 1.0, 1.5, "7", " 7 ", "7.0", "1_000", "abc", True, False, "", [1], {}]
    ),
)
moments = st.one_of(
    st.sampled_from(["2026-01-01T10:00:00Z", "2026-01-01T10:00:00+05:30", "2026-01-01T10:00:00", "2026-01-01",
                     "2026-01-01 10:00", "2026-01-01T10:00:00.123456789Z", "0001-01-01T00:00:00+05:00",
                     "9999-12-31T23:59:59-05:00", "2024-05-20T03:34:52+16:00", "yesterday", "", "2026-13-45T00:00:00Z",
                     " 2026-01-01T10:00:00Z", 20260101, None, True]),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
)  # fmt: skip
values = {"account": ids, "contact": st.one_of(ids, st.none()), "kind": st.one_of(texts, st.none(), ids),
          "topic": st.one_of(texts, st.none()), "occurred_at": moments, "source": st.one_of(texts, st.none()),
          "external_id": st.one_of(texts, st.none(), ids)}  # fmt: skip
items = st.fixed_dictionaries({}, optional=values)


@given(st.lists(items, min_size=1, max_size=6))
@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_lean_check_answers_as_the_serializer(batch):
    records, errors = by_lean_check(batch)
    expected, expected_errors = by_serializer(batch)
    assert errors == expected_errors
    same(records, expected)


@pytest.mark.parametrize(
    "item",
    [
        {"account": 1, "kind": "Web Visit", "occurred_at": "2026-01-01T10:00:00+02:00", "external_id": "  E1 "},
        {"account": "12", "contact": None, "kind": "meeting", "occurred_at": "2026-01-01", "topic": " Pricing "},
        {"account": 3, "contact": 4, "kind": "meeting", "occurred_at": "2026-01-01T10:00:00", "source": ""},
        {"account": 3, "kind": "meeting", "occurred_at": "2026-01-01T10:00:00Z", "external_id": ""},
    ],
)
def test_accepted_values_are_the_serializers(item):
    records, errors = by_lean_check([item])
    expected, _ = by_serializer([item])
    assert errors is None
    same(records, expected)


def test_every_refusal_is_the_serializers_word_for_word():
    batch = [
        {"account": 1, "kind": "web_visit", "occurred_at": "2026-01-01T00:00:00Z"},
        {"account": 0, "kind": "Web Visit!", "occurred_at": "yesterday", "topic": "t" * 121},
        {"kind": "meeting", "contact": "x", "external_id": "a\x00b"},
        {"account": 2, "kind": None, "occurred_at": "0001-01-01T00:00:00+05:00", "source": None},
    ]
    _, errors = by_lean_check(batch)
    assert errors == by_serializer(batch)[1]
    assert {"index": 1, "field": "kind", "detail": "'Web Visit!' is not a signal kind (lower_snake_case, e.g. "
            "web_visit)."} in errors  # fmt: skip
    assert {(e["index"], e["field"]) for e in errors} == {
        (1, "account"), (1, "kind"), (1, "occurred_at"), (1, "topic"),
        (2, "account"), (2, "contact"), (2, "occurred_at"), (2, "external_id"),
        (3, "kind"), (3, "occurred_at"), (3, "source"),
    }  # fmt: skip


def test_a_moment_is_taken_to_the_current_zone_as_the_serializer_takes_it(settings):
    from django.utils import timezone

    with timezone.override("America/New_York"):
        item = {"account": 1, "kind": "meeting", "occurred_at": "2026-07-01T10:00:00+02:00"}
        naive = {"account": 1, "kind": "meeting", "occurred_at": "2026-07-01T10:00:00"}
        for sent in (item, naive):
            records, _ = by_lean_check([sent])
            same(records, by_serializer([sent])[0])
