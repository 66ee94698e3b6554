"""Intent topics: which topics of an account's signals surge.

Per account and topic, the signals of the recent window (the last TOPIC_WINDOW_DAYS days, up to now) are counted
against the account's own baseline: the counts of the TOPIC_BASELINE_WINDOWS windows of the same length just before
it, a window without a signal counting 0. With mean and std (population) of those counts,

    z = (recent - mean) / max(std, TOPIC_STD_FLOOR)

and the topic surges when z >= TOPIC_SURGE_Z and recent >= TOPIC_MIN_RECENT (settings; defaults 7 days, 8 windows,
z 2, floor 1, at least 5 signals). The floor keeps a topic that was perfectly steady (std 0) from surging on one more
signal; a new topic (mean 0) surges once it has enough signals. Signals in the future count nowhere.

Topics are read as signal kinds are: lower case and trimmed ("CRM Software " is "crm software"); a topic is shown as
its signals spell it (the first spelling in code-point order, "CRM software" before "crm software").

Two implementations of the same arithmetic, tested equal: on PostgreSQL one set-based statement over the signals
(`_SURGE_SQL`), stored with an upsert; elsewhere (SQLite) Python over the same rows. The refresh stores a row per
account and topic seen in the windows (TopicSurge), keeps `Account.surging_topics` (the surging topics, sorted: a
LIST field criteria read) and queues the accounts whose surging topics changed for rescoring (changes.py).

An account's topics are those with at least one signal in the recent window: a topic quiet now cannot surge, and
keeping it would make the nightly table several times larger (most topics of most accounts are quiet in any week).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .changes import accounts_changed
from .models import Account, Signal, TopicSurge

WHITESPACE = " \t\n\r\f\v"
SQL_WHITESPACE = "E' \\t\\n\\r\\f\\v'"
REFRESH_LOCK = 72_114_021  # pg_advisory_xact_lock key: one refresh at a time


@dataclass(frozen=True)
class SurgeRules:
    window_days: int = 7
    baseline_windows: int = 8
    z_threshold: float = 2.0
    std_floor: float = 1.0
    min_recent: int = 5

    @classmethod
    def current(cls) -> SurgeRules:
        return cls(
            window_days=settings.TOPIC_WINDOW_DAYS,
            baseline_windows=settings.TOPIC_BASELINE_WINDOWS,
            z_threshold=settings.TOPIC_SURGE_Z,
            std_floor=settings.TOPIC_STD_FLOOR,
            min_recent=settings.TOPIC_MIN_RECENT,
        )

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(days=self.window_days)

    def bounds(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """(start of the recent window, start of the baseline): recent is (recent_start, now], baseline window k
        (0 the latest) is (recent_start - (k+1) window, recent_start - k window]."""
        recent_start = now - self.window
        return recent_start, recent_start - self.baseline_windows * self.window


@dataclass(frozen=True)
class Surge:
    account_id: int
    topic: str
    label: str
    recent_count: int
    baseline_mean: float
    baseline_std: float
    z: float
    surging: bool


def topic_key(raw: str | None) -> str:
    """A topic as criteria and filters compare it: lower case, trimmed."""
    return (raw or "").strip(WHITESPACE).lower()


def surge_measure(recent: int, total: int, squares: int, rules: SurgeRules) -> tuple[float, float, float, bool]:
    """(mean, std, z, surging) from the recent count and the baseline windows' sum and sum of squares; the same
    arithmetic, in the same order, as the SQL."""
    n = float(rules.baseline_windows)
    mean = float(total) / n
    mean_square = float(squares) / n
    std = math.sqrt(max(mean_square - mean * mean, 0.0))
    z = (float(recent) - mean) / max(std, rules.std_floor)
    return mean, std, z, recent >= rules.min_recent and z >= rules.z_threshold


def surge_of(recent: int, baseline: list[int], rules: SurgeRules) -> tuple[float, float, float, bool]:
    """(mean, std, z, surging) of one topic: its recent count and its baseline windows' counts (missing windows 0)."""
    return surge_measure(recent, sum(baseline), sum(c * c for c in baseline), rules)


# --- Python --------------------------------------------------------------------------------------------------------


def python_surges(now: dt.datetime, rules: SurgeRules) -> list[Surge]:
    recent_start, baseline_start = rules.bounds(now)
    window = rules.window
    recent: dict[tuple[int, str], int] = defaultdict(int)
    windows: dict[tuple[int, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    labels: dict[tuple[int, str], str] = {}
    signals = (
        Signal.objects.filter(occurred_at__gt=baseline_start, occurred_at__lte=now)
        .exclude(topic="")
        .values_list("account_id", "topic", "occurred_at")
        .order_by()
    )
    for account_id, raw, occurred_at in signals.iterator(chunk_size=5000):
        key = topic_key(raw)
        if not key:
            continue
        pair = (account_id, key)
        spelling = raw.strip(WHITESPACE)
        if pair not in labels or spelling < labels[pair]:
            labels[pair] = spelling
        counts = windows[pair]  # every pair seen has a baseline, maybe empty
        if occurred_at > recent_start:
            recent[pair] += 1
        else:
            counts[(recent_start - occurred_at) // window] += 1
    found = []
    for pair, counts in windows.items():
        if not recent.get(pair):
            continue  # quiet now: not one of the account's topics
        mean, std, z, surging = surge_of(recent.get(pair, 0), list(counts.values()), rules)
        found.append(Surge(pair[0], pair[1], labels[pair], recent.get(pair, 0), mean, std, z, surging))
    found.sort(key=lambda s: (s.account_id, s.topic))
    return found


# --- SQL (PostgreSQL) ----------------------------------------------------------------------------------------------

SIGNAL_TABLE = Signal._meta.db_table
SURGE_TABLE = TopicSurge._meta.db_table
ACCOUNT_TABLE = Account._meta.db_table

# Parameters: now, recent_start, baseline_start (the window), recent_start and the window in seconds (the baseline
# window of each signal), baseline windows (n) x3, std floor, min recent, z threshold.
_SURGE_SQL = f"""
WITH by_window AS (
    SELECT account_id, lower(btrim(topic, {SQL_WHITESPACE})) AS topic,
           min(btrim(topic, {SQL_WHITESPACE}) COLLATE "C") AS label,
           CASE WHEN occurred_at > %(recent_start)s THEN -1
                ELSE floor(extract(epoch FROM (%(recent_start)s - occurred_at)) / %(window_seconds)s)::int END AS w,
           count(*) AS n
      FROM {SIGNAL_TABLE}
     WHERE occurred_at > %(baseline_start)s AND occurred_at <= %(now)s AND topic <> ''
     GROUP BY 1, 2, 4
), by_topic AS (
    SELECT account_id, topic, min(label COLLATE "C") AS label,
           coalesce(sum(n) FILTER (WHERE w < 0), 0)::bigint AS recent,
           coalesce(sum(n) FILTER (WHERE w >= 0), 0)::float8 / %(windows)s::float8 AS mean,
           coalesce(sum(n * n) FILTER (WHERE w >= 0), 0)::float8 / %(windows)s::float8 AS mean_square
      FROM by_window
     WHERE topic <> ''
     GROUP BY 1, 2
), measured AS (
    SELECT account_id, topic, label, recent, mean, sqrt(greatest(mean_square - mean * mean, 0.0::float8)) AS std
      FROM by_topic
)
SELECT account_id, topic, label, recent, mean, std,
       (recent::float8 - mean) / greatest(std, %(std_floor)s::float8) AS z,
       recent >= %(min_recent)s AND (recent::float8 - mean) / greatest(std, %(std_floor)s::float8) >= %(z)s::float8
         AS surging
  FROM measured
 WHERE recent > 0
"""  # noqa: S608  # nosec B608  # SQL from model tables and constants; values are parameters


def _params(now: dt.datetime, rules: SurgeRules) -> dict:
    recent_start, baseline_start = rules.bounds(now)
    return {
        "now": now,
        "recent_start": recent_start,
        "baseline_start": baseline_start,
        "window_seconds": int(rules.window.total_seconds()),
        "windows": rules.baseline_windows,
        "std_floor": rules.std_floor,
        "min_recent": rules.min_recent,
        "z": rules.z_threshold,
    }


def sql_surges(now: dt.datetime, rules: SurgeRules) -> list[Surge]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({_SURGE_SQL}) s ORDER BY account_id, topic", _params(now, rules))  # noqa: S608  # nosec B608
        return [Surge(*row) for row in cursor.fetchall()]


def surges_computed(now: dt.datetime | None = None, rules: SurgeRules | None = None) -> list[Surge]:
    """Every account's topic surges as of `now`, computed, not stored."""
    now, rules = now or timezone.now(), rules or SurgeRules.current()
    return sql_surges(now, rules) if connection.vendor == "postgresql" else python_surges(now, rules)


def _sql_store(now: dt.datetime, rules: SurgeRules) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])
        cursor.execute("DROP TABLE IF EXISTS topic_surge_new")  # left by a refresh earlier in this transaction
        # The grouping of millions of signals by account and topic hashes in memory rather than spilling to disk;
        # for this transaction only.
        cursor.execute("SET LOCAL work_mem = %s", [f"{settings.TOPIC_WORK_MEM_MB}MB"])
        cursor.execute(f"CREATE TEMP TABLE topic_surge_new ON COMMIT DROP AS {_SURGE_SQL}", _params(now, rules))  # noqa: S608  # nosec B608
        cursor.execute("CREATE UNIQUE INDEX ON topic_surge_new (account_id, topic)")
        cursor.execute("ANALYZE topic_surge_new")
        cursor.execute(
            f"DELETE FROM {SURGE_TABLE} s WHERE NOT EXISTS "  # noqa: S608  # nosec B608
            "(SELECT 1 FROM topic_surge_new n WHERE n.account_id = s.account_id AND n.topic = s.topic)"
        )
        removed = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {SURGE_TABLE} (account_id, topic, label, recent_count, baseline_mean, baseline_std, z, "  # noqa: S608  # nosec B608
            "surging, computed_at) SELECT n.account_id, n.topic, n.label, n.recent, n.mean, n.std, n.z, n.surging, %s "
            "FROM topic_surge_new n ORDER BY n.account_id, n.topic "
            "ON CONFLICT (account_id, topic) DO UPDATE SET label = EXCLUDED.label, "
            "recent_count = EXCLUDED.recent_count, baseline_mean = EXCLUDED.baseline_mean, "
            "baseline_std = EXCLUDED.baseline_std, z = EXCLUDED.z, surging = EXCLUDED.surging, "
            "computed_at = EXCLUDED.computed_at",
            [now],
        )
        stored = cursor.rowcount
        # Each account's surging topics, sorted as Python sorts them; written only where they changed.
        cursor.execute(
            f"""
            WITH wanted AS (
                SELECT account_id, jsonb_agg(topic ORDER BY topic COLLATE "C") AS topics
                  FROM topic_surge_new WHERE surging GROUP BY account_id
            ), target AS (
                SELECT a.id, coalesce(w.topics, '[]'::jsonb) AS topics
                  FROM {ACCOUNT_TABLE} a LEFT JOIN wanted w ON w.account_id = a.id
                 WHERE a.surging_topics <> '[]'::jsonb OR w.account_id IS NOT NULL
            )
            UPDATE {ACCOUNT_TABLE} a SET surging_topics = t.topics
              FROM target t
             WHERE a.id = t.id AND a.surging_topics IS DISTINCT FROM t.topics
            RETURNING a.id
            """  # noqa: S608  # nosec B608
        )
        changed = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE surging) FROM topic_surge_new")
        rows, surging = cursor.fetchone()
        cursor.execute("DROP TABLE topic_surge_new")
    return {"topics": stored, "surging": surging, "removed": removed, "changed": changed, "rows": rows}


def _python_store(now: dt.datetime, rules: SurgeRules) -> dict:
    surges = python_surges(now, rules)
    existing = {(s.account_id, s.topic): s for s in TopicSurge.objects.select_for_update()}
    wanted = {(s.account_id, s.topic) for s in surges}
    gone = [row.pk for key, row in existing.items() if key not in wanted]
    TopicSurge.objects.filter(pk__in=gone).delete()
    fields = ["label", "recent_count", "baseline_mean", "baseline_std", "z", "surging", "computed_at"]
    new, updated = [], []
    for s in surges:
        values = {
            "label": s.label,
            "recent_count": s.recent_count,
            "baseline_mean": s.baseline_mean,
            "baseline_std": s.baseline_std,
            "z": s.z,
            "surging": s.surging,
            "computed_at": now,
        }
        row = existing.get((s.account_id, s.topic))
        if row is None:
            new.append(TopicSurge(account_id=s.account_id, topic=s.topic, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
            updated.append(row)
    TopicSurge.objects.bulk_create(new, batch_size=1000)
    TopicSurge.objects.bulk_update(updated, fields, batch_size=1000)
    topics: dict[int, list[str]] = defaultdict(list)
    for s in surges:
        if s.surging:
            topics[s.account_id].append(s.topic)
    accounts = Account.objects.filter(pk__in=set(topics)) | Account.objects.exclude(surging_topics=[])
    changed = []
    for account in accounts.only("pk", "surging_topics").select_for_update():
        new_topics = sorted(topics.get(account.pk, []))
        if account.surging_topics != new_topics:
            account.surging_topics = new_topics
            changed.append(account)
    Account.objects.bulk_update(changed, ["surging_topics"], batch_size=1000)
    return {
        "topics": len(surges),
        "surging": sum(s.surging for s in surges),
        "removed": len(gone),
        "changed": sorted(a.pk for a in changed),
        "rows": len(surges),
    }


def topic_surges_refresh(*, now: dt.datetime | None = None, rules: SurgeRules | None = None) -> dict:
    """Recompute and store every account's topic surges as of `now`; the accounts whose surging topics changed are
    queued for rescoring in the same transaction. Returns the figures for the job's page."""
    now, rules = now or timezone.now(), rules or SurgeRules.current()
    with transaction.atomic():
        found = _sql_store(now, rules) if connection.vendor == "postgresql" else _python_store(now, rules)
        accounts_changed(found["changed"])
    return {
        "summary": {
            "topics": found["rows"],
            "surging": found["surging"],
            "accounts_changed": len(found["changed"]),
            "removed": found["removed"],
        },
        "notes": [rules_sentence(rules)],
    }


# --- In words -------------------------------------------------------------------------------------------------------


def _count(number: float) -> str:
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def _period(rules: SurgeRules) -> tuple[str, str]:
    """("this week", "a week before") for 7 days; ("in the last 3 days", "per 3 days before") otherwise."""
    if rules.window_days == 7:
        return "this week", "a week before"
    if rules.window_days == 1:
        return "today", "a day before"
    return f"in the last {rules.window_days} days", f"per {rules.window_days} days before"


def rules_sentence(rules: SurgeRules) -> str:
    now_words, _ = _period(rules)
    return (
        f"A topic surges when its signals {now_words} stand at least {_count(rules.z_threshold)} standard deviations "
        f"above the account's own average of the {rules.baseline_windows} periods of {rules.window_days} days "
        f"before (a deviation counted as at least {_count(rules.std_floor)}), with at least {rules.min_recent} "
        f"signals {now_words}."
    )


def surge_state(surge: TopicSurge | Surge, rules: SurgeRules) -> str:
    if surge.surging:
        return "surging"
    if surge.z >= rules.z_threshold:
        return f"not a surge: fewer than {rules.min_recent} signals"
    if surge.recent_count > surge.baseline_mean:
        return "above its usual, not a surge"
    if surge.recent_count < surge.baseline_mean:
        return "below its usual"
    return "steady"


def surge_sentence(surge: TopicSurge | Surge, rules: SurgeRules) -> str:
    """ "CRM software: 14 this week against 2.1 a week before (surging, z 5.9)"."""
    now_words, before_words = _period(rules)
    return (
        f"{surge.label}: {_count(surge.recent_count)} {now_words} against {_count(surge.baseline_mean)} "
        f"{before_words} ({surge_state(surge, rules)}, z {surge.z:,.1f})"
    )
