"""The engine's SQL half (PostgreSQL): one statement per slice of accounts, equal to the pure rule."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterator

from django.db import connection, transaction

from accounts.models import Account
from core.tiers import RANKED, SUPPRESS, TIERS

from ..events import surges_insert_sql, tier_changes_recorded_after
from ..models import AccountScore, ScoringModel, TierChange
from ..tiers import CAPACITY, HYSTERESIS, MIN_DAYS, PLACED, SURGE, Placement, Standing, move_reason
from .plan import EXPLANATION_FIELDS, Plan, Row, Selection
from .sql_criteria import distinct_values, match_sql
from .sql_signals import signal_aggregate_sql

ACCOUNT_TABLE = Account._meta.db_table
SCORE_TABLE = AccountScore._meta.db_table
MODEL_TABLE = ScoringModel._meta.db_table
CHANGE_TABLE = TierChange._meta.db_table
# scoring.round1 in SQL: the same float operations in the same order.
ROUND1 = "(sign({x}) * floor(abs({x}) * 10.0::float8 + 0.5::float8 + 0.000001::float8) / 10.0::float8)"


def _array_of(items: list[str], sql_type: str) -> str:
    """SQL for the array of the non-NULL values of `items` (SQL expressions)."""
    if not items:
        return f"'{{}}'::{sql_type}[]"
    return f"array_remove(ARRAY[{', '.join(items)}]::{sql_type}[], NULL)"


def _select_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """SELECT account_id, fit, signal, coverage, unified, tier, explanation for the selected accounts."""
    where_o, where_o_params = selection.q("o.account_id")  # the stored scores of the slice only
    scores_sql, scores_params = scores_ctes_sql(plan, selection, as_of)
    sql = f"""
        WITH {scores_sql},
        {_placement_sql(where_o)}
        SELECT id AS account_id, fit_r AS fit, signal_r AS signal, coverage, unified_r AS unified, then_r,
               is_excluded, old_tier, old_since, old_surge, old_flags, same_model,
               tier, CASE WHEN tier = old_tier THEN old_since ELSE %s::timestamptz END AS tier_since,
               surge_until, flags, candidate, target, surge_started, matched, excluded, personas
        FROM placed
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    return sql, scores_params + _placement_params(plan, as_of, where_o_params) + [as_of]


def scores_ctes_sql(plan: Plan, selection: Selection, as_of: dt.datetime, *, surge: bool = True) -> tuple[str, list]:
    """The CTEs `parts` and `rounded`: each selected account's fit, signal, coverage and unified score (`rounded`
    adds them rounded: fit_r, signal_r, then_r, unified_r), its exclusion and its explanation. Without `surge`, no
    signal score as of the surge window's start (then_r is NULL)."""
    p = plan.params
    where_a, where_a_params = selection.q("a.id")
    criteria, exclusions = list(p.criteria), list(p.exclusions)
    distinct = distinct_values(criteria + exclusions, where_a, where_a_params)

    match_cols, params = [], []
    for number, criterion in enumerate(criteria):
        sql, sql_params = match_sql(criterion, distinct)
        match_cols.append(f"COALESCE({sql}, FALSE) AS m{number}")
        params += sql_params
    for number, criterion in enumerate(exclusions):
        sql, sql_params = match_sql(criterion, distinct)
        match_cols.append(f"COALESCE({sql}, FALSE) AS x{number}")
        params += sql_params
    acc_sql = f"SELECT a.id{''.join(', ' + c for c in match_cols)} FROM {ACCOUNT_TABLE} a WHERE {where_a}"  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    params += where_a_params

    # Fit: each group scores its best matched criterion (the first of equal points), else 0.
    groups: dict[str, list[int]] = {}
    for number, criterion in enumerate(criteria):
        groups.setdefault(criterion.group_name, []).append(number)
    group_scores, group_indexes, fit_params = [], [], []
    fit_max = 0.0
    for members in groups.values():
        ordered = sorted(members, key=lambda n: (-criteria[n].points, n))
        group_scores.append("CASE " + " ".join(f"WHEN m{n} THEN %s::float8" for n in ordered) + " ELSE 0.0::float8 END")
        fit_params += [criteria[n].points for n in ordered]
        group_indexes.append("CASE " + " ".join(f"WHEN m{n} THEN {n}" for n in ordered) + " END")
        fit_max += max(0.0, max(criteria[n].points for n in members))
    raw_sql = "(0.0::float8" + "".join(f" + {g}" for g in group_scores) + ")"
    if fit_max > 0:
        fit_sql = f"LEAST(100.0::float8, GREATEST(0.0::float8, 100.0::float8 * {raw_sql} / %s::float8))"
        fit_params.append(fit_max)
    else:
        fit_sql, fit_params = "0.0::float8", []
    matched_sql = _array_of(group_indexes, "int")
    excluded_flag = " OR ".join(f"x{n}" for n in range(len(exclusions))) or "FALSE"
    excluded_sql = _array_of([f"CASE WHEN x{n} THEN {n} END" for n in range(len(exclusions))], "int")

    aggregate_sql, signal_params = signal_aggregate_sql(plan, selection, as_of, surge=surge)
    signal_raw_sql = "COALESCE(sa.raw, 0.0::float8)"
    personas = sorted(set(p.required_personas))
    mask = "COALESCE(sa.pmask, 0)"
    coverage_sql = (
        "("
        + " + ".join(f"(({mask} & {1 << i}) > 0)::int" for i in range(len(personas)))
        + f")::float8 / {len(personas)}.0::float8"
        if personas
        else "0.0::float8"
    )
    personas_sql = _array_of(
        [f"CASE WHEN ({mask} & {1 << i}) > 0 THEN %s::text END" for i in range(len(personas))], "text"
    )
    # The accounts (by id) and their signal aggregate (in account order) stream side by side: a merge join, no
    # hash table and no materialized intermediate over the slice. OFFSET 0 keeps each level's expressions from
    # being inlined (and so computed again) into the next.
    sql = f"""
        parts AS (
          SELECT acc.id,
                 {fit_sql} AS fit,
                 CASE WHEN %s::float8 > 0
                      THEN LEAST(100.0::float8, 100.0::float8 * {signal_raw_sql} / %s::float8)
                      ELSE 0.0::float8 END AS signal,
                 CASE WHEN %s::float8 > 0 AND sa.raw_then IS NOT NULL
                      THEN LEAST(100.0::float8, 100.0::float8 * sa.raw_then / %s::float8) END AS signal_then,
                 {coverage_sql} AS coverage,
                 ({excluded_flag}) AS is_excluded,
                 {matched_sql} AS matched,
                 {excluded_sql} AS excluded,
                 {personas_sql} AS personas
          FROM ({acc_sql} ORDER BY a.id OFFSET 0) acc LEFT JOIN ({aggregate_sql}) sa ON sa.account_id = acc.id
          OFFSET 0
        ),
        rounded AS (
          SELECT w.*, {ROUND1.format(x="w.fit")} AS fit_r, {ROUND1.format(x="w.signal")} AS signal_r,
                 {ROUND1.format(x="w.signal_then")} AS then_r, {ROUND1.format(x="w.unified")} AS unified_r
          FROM (
            SELECT parts.*, %s::float8 * fit + %s::float8 * signal + %s::float8 * 100.0::float8 * coverage AS unified
            FROM parts
          ) w OFFSET 0
        )
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
    all_params = (
        fit_params
        + [p.full_signal_points] * 4
        + personas
        + params
        + signal_params
        + [p.w_fit, p.w_signal, p.w_coverage]
    )
    return sql, all_params


# tiers.candidate_tier in SQL, on `rounded`; its parameters: candidate_params(plan).
CANDIDATE_SQL = (
    "CASE WHEN is_excluded THEN 'suppress' "
    + " ".join(f"WHEN unified_r >= %s AND fit_r >= %s THEN '{tier}'" for tier in TIERS)
    + " ELSE 'recycle' END"
)


def candidate_params(plan: Plan) -> list:
    return [v for tier in TIERS for v in (plan.thresholds[tier].enter, plan.thresholds[tier].min_fit)]


def _placement_sql(where_o: str) -> str:
    """The CTEs `standing` and `placed`: tiers.place() in SQL, from `rounded` and the stored score."""
    rank = "array_position(ARRAY['tier_1', 'tier_2', 'tier_3', 'recycle', 'suppress']::text[], {x})"
    candidate = CANDIDATE_SQL
    above = " ".join(
        f"WHEN '{RANKED[i]}' THEN CASE WHEN fit_r >= %s THEN '{RANKED[i - 1]}' ELSE '{RANKED[i]}' END"
        for i in range(1, len(RANKED))
    )
    exit_of = "CASE old_tier " + " ".join(f"WHEN '{t}' THEN %s::float8" for t in TIERS) + " END"
    min_fit_of = "CASE old_tier " + " ".join(f"WHEN '{t}' THEN %s::float8" for t in TIERS) + " END"
    return f"""
        standing AS (
          SELECT r.*, o.tier AS old_tier, o.tier_since AS old_since, o.surge_until AS old_surge,
                 o.flags AS old_flags, COALESCE(o.model_id = %s, TRUE) AS same_model,
                 COALESCE(r.signal_r - r.then_r + 1e-9::float8 >= %s::float8, FALSE) AS surge_started,
                 {candidate} AS candidate
          FROM rounded r LEFT JOIN {SCORE_TABLE} o ON o.account_id = r.id AND {where_o} OFFSET 0
        ),
        surged AS (
          SELECT st.*, CASE WHEN surge_started THEN %s::timestamptz
                            WHEN old_surge > %s::timestamptz THEN old_surge END AS surge_until
          FROM standing st OFFSET 0
        ),
        targeted AS (
          SELECT su.*, CASE WHEN surge_until IS NULL THEN candidate
                            ELSE CASE candidate {above} ELSE candidate END END AS target
          FROM surged su OFFSET 0
        ),
        held AS (
          SELECT tg.*, CASE
                 WHEN is_excluded OR old_tier IS NULL OR old_tier = 'suppress'
                      OR {rank.format(x="target")} <= {rank.format(x="old_tier")} OR NOT same_model THEN NULL
                 WHEN unified_r >= {exit_of} AND fit_r >= {min_fit_of} THEN '{HYSTERESIS}'
                 WHEN %s::timestamptz - old_since < %s::interval THEN '{MIN_DAYS}'
               END AS hold
          FROM targeted tg OFFSET 0
        ),
        capped AS (
          SELECT h.*, (COALESCE(hold IS NULL AND target = 'tier_1' AND old_tier = 'tier_2'
                                AND '{CAPACITY}' = ANY(old_flags), FALSE)) AS capacity_held
          FROM held h OFFSET 0
        ),
        placed AS (
          SELECT c.*,
                 CASE WHEN capacity_held THEN 'tier_2' WHEN hold IS NOT NULL THEN old_tier ELSE target END AS tier,
                 array_remove(ARRAY[CASE WHEN capacity_held THEN '{CAPACITY}' END, hold,
                                    CASE WHEN surge_until IS NOT NULL THEN '{SURGE}' END]::text[], NULL) AS flags
          FROM capped c OFFSET 0
        )
    """  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters


def _placement_params(plan: Plan, as_of: dt.datetime, where_o_params: list) -> list:
    t, rules = plan.thresholds, plan.rules
    return [
        plan.model.pk,
        rules.surge_delta,
        *candidate_params(plan),
        *where_o_params,
        as_of + dt.timedelta(days=rules.surge_hold_days),
        as_of,
        *[t[RANKED[i - 1]].min_fit for i in range(1, len(RANKED))],
        *[t[tier].exit for tier in TIERS],
        *[t[tier].min_fit for tier in TIERS],
        as_of,
        dt.timedelta(days=rules.min_days_in_tier),
    ]


def _statement_settings(cursor, selection: Selection) -> None:
    """Settings for one scoring statement, for its transaction only."""
    # Compiling the expressions (JIT) costs more than it saves on a slice with the workers side by side (measured
    # at a million accounts), and far more on a few accounts.
    cursor.execute("SET LOCAL jit = off")
    if selection.ids is not None:  # a few accounts (incremental): index look-ups, small memory
        cursor.execute("SET LOCAL work_mem = '64MB'")
        return
    # Joins in memory, never a loop over millions of rows, and one process per slice (the workers already run
    # slices side by side).
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    cursor.execute("SET LOCAL enable_nestloop = off")


STREAM_CHUNK = 1000
# Set for the store statement: the scores it inserts carry their account's territory and owner already.
SCOPE_WRITTEN = "revops.score_scope_written"
RETURNED = (
    "account_id, fit, signal, coverage, unified, then_r, is_excluded, old_tier, old_since, old_surge, old_flags, "
    "same_model, tier, tier_since, surge_until, flags, candidate, target, surge_started, matched, excluded, personas"
)
# The same columns for a move: only what its reason reads (tiers.move_reason); the rest NULL, not sent or parsed.
MOVED = (
    "account_id, fit, signal, coverage, unified, then_r, is_excluded, old_tier, NULL::timestamptz, old_surge, "
    "old_flags, same_model, tier, NULL::timestamptz, surge_until, flags, candidate, target, surge_started, "
    "NULL::int[], NULL::int[], NULL::text[]"
)


def _row(values) -> Row:
    scores, old, new, explanation = values[:7], values[7:12], values[12:19], values[19:]
    old_tier, old_since, old_surge, old_flags, same_model = old
    tier, tier_since, surge_until, flags, candidate, target, surge_started = new
    return Row(
        *scores,
        Standing(old_tier, old_since, old_surge, tuple(old_flags or ()), same_model),
        Placement(tier, tier_since, surge_until, tuple(flags), candidate, target, surge_started),
        dict(zip(EXPLANATION_FIELDS, explanation, strict=True)),
    )


def sql_rows(plan: Plan, selection: Selection, as_of: dt.datetime) -> Iterator[Row]:
    sql, params = _select_sql(plan, selection, as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        _statement_settings(cursor, selection)
        cursor.execute(sql + " ORDER BY account_id", params)
        for values in cursor.fetchall():
            yield _row(values)


# Stand-ins for a placement's unified and fit while its reason is worded once per shape: below, or at and above, the
# next tier's thresholds. Formatted as tiers.py formats numbers (%g), they appear nowhere else in a reason.
U_BELOW, U_ABOVE, F_BELOW, F_ABOVE = -98765.4, 98765.4, -87654.3, 87654.3


def placement_wordings(plan: Plan) -> list[tuple]:
    """(tier, the tier above's enter and min_fit (NULL at the top and for suppress), unified below it, fit below it,
    reason): the reason tiers.move_reason gives a first placement in `tier` (not lifted by a surge), with "{U}" and
    "{F}" where its unified and fit go. Its words depend only on the tier and those two comparisons; the numbers are
    the stored, rounded scores, which PostgreSQL writes as %g does (tested), so SQL fills them in."""
    rows = []
    for tier in (*RANKED, SUPPRESS):
        above = RANKED[RANKED.index(tier) - 1] if tier in RANKED and tier != RANKED[0] else None
        rule = plan.thresholds[above] if above else None
        shapes = [(u, f) for u in (True, False) for f in (True, False)] if rule else [(False, False)]
        for unified_below, fit_below in shapes:
            unified, fit = (U_BELOW if unified_below else U_ABOVE), (F_BELOW if fit_below else F_ABOVE)
            placement = Placement(tier, dt.datetime.min.replace(tzinfo=dt.UTC), None, (), tier, tier)
            reason = move_reason(plan.rules, Standing(), placement, fit=fit, signal=0, signal_then=0, unified=unified)
            reason = reason.replace(f"{unified:g}", "{U}").replace(f"{fit:g}", "{F}")
            rows.append((tier, rule and rule.enter, rule and rule.min_fit, unified_below, fit_below, reason))
    return rows


def _wordings_sql(plan: Plan) -> tuple[str, list]:
    rows = placement_wordings(plan)
    values = ", ".join("(%s::text, %s::float8, %s::float8, %s::bool, %s::bool, %s::text)" for _ in rows)
    return f"(VALUES {values}) AS w(tier, above_enter, above_min_fit, unified_below, fit_below, reason)", [
        v for row in rows for v in row
    ]


LIFTED = "n.surge_until IS NOT NULL AND n.target <> n.candidate AND n.tier = n.target"


def _store_sql(plan: Plan, selection: Selection, as_of: dt.datetime) -> tuple[str, list]:
    """The statement that scores the selected accounts and writes what changed. It returns one row with the
    number of rows written (account_id NULL), then the accounts that moved to another tier, then the accounts placed
    for the first time (inserted: old_tier NULL) whose surge lifts them above their candidate. Every other first
    placement is recorded by the statement itself: its reason is the placement's wording for its tier and shape with
    its numbers filled in (placement_wordings), so a first fill of a million accounts sends none of them to Python."""
    select_sql, params = _select_sql(plan, selection, as_of)
    # Both keep the look-up of existing rows to the slice (else each slice would read every stored score).
    where_o, where_o_params = selection.q("o.account_id")
    where_old, where_old_params = selection.q("old.account_id")
    # The accounts the statement reads for their territory, owner and name: its slice's range of them (the planner
    # cannot carry the slice's bounds across the join, and would otherwise hash every account, twice, per slice).
    where_a, where_a_params = selection.q("a.id")
    wordings, wordings_params = _wordings_sql(plan)
    # Accounts whose surge begins: surging now, and not before (an account scored for the first time too).
    surges, surges_params = surges_insert_sql(
        model=plan.model,
        at=as_of,
        rows_sql="SELECT account_id, signal, surge_until, tier FROM changed "
        "WHERE surge_until IS NOT NULL AND NOT COALESCE(old_surge > %s::timestamptz, FALSE) "
        "UNION ALL SELECT n.account_id, n.signal, n.surge_until, n.tier FROM n JOIN added USING (account_id) "
        "WHERE n.surge_until IS NOT NULL",
        rows_params=[as_of],
        accounts_where=(where_a, where_a_params),
    )
    # Changed rows are updated, missing rows inserted: one join, no per-row conflict handling. A row is left
    # alone when nothing in it changes, or when it holds a newer score of the same version.
    return (
        f"""
            WITH n AS MATERIALIZED (
              SELECT s.* FROM ({select_sql}) s
              WHERE EXISTS (SELECT 1 FROM {MODEL_TABLE} m WHERE m.id = %s AND m.status = 'active')
            ),
            changed AS (
              UPDATE {SCORE_TABLE} AS old SET
                model_id = %s, fit = n.fit, signal = n.signal, coverage = n.coverage, unified = n.unified,
                tier = n.tier, tier_since = n.tier_since, surge_until = n.surge_until, flags = n.flags,
                matched = n.matched, excluded = n.excluded, personas = n.personas, as_of = %s, computed_at = now()
              FROM n
              WHERE old.account_id = n.account_id AND {where_old}
                AND (old.model_id <> %s OR old.as_of <= %s)
                AND (old.model_id, old.fit, old.signal, old.coverage, old.unified, old.tier, old.surge_until,
                     old.flags, old.matched, old.excluded, old.personas)
                    IS DISTINCT FROM (%s, n.fit, n.signal, n.coverage, n.unified, n.tier, n.surge_until, n.flags,
                                      n.matched, n.excluded, n.personas)
              RETURNING n.*
            ),
            added AS (
              INSERT INTO {SCORE_TABLE}
                (account_id, model_id, fit, signal, coverage, unified, tier, tier_since, surge_until, flags,
                 matched, excluded, personas, as_of, computed_at, account_territory_id, account_owner_id)
              SELECT n.account_id, %s, n.fit, n.signal, n.coverage, n.unified, n.tier, n.tier_since, n.surge_until,
                     n.flags, n.matched, n.excluded, n.personas, %s, now(), a.territory_id, a.owner_id
              FROM n JOIN {ACCOUNT_TABLE} a ON a.id = n.account_id AND {where_a}
              WHERE NOT EXISTS (
                SELECT 1 FROM {SCORE_TABLE} o WHERE o.account_id = n.account_id AND {where_o}
              )
              ON CONFLICT (account_id) DO NOTHING
              RETURNING account_id
            ),
            placed AS (
              INSERT INTO {CHANGE_TABLE} (account_id, model_id, from_tier, to_tier, reason, fit, signal, unified, at)
              SELECT n.account_id, %s, '{PLACED}', n.tier,
                     replace(replace(w.reason, '{{U}}', n.unified::text), '{{F}}', n.fit::text),
                     n.fit, n.signal, n.unified, %s
              FROM n JOIN added USING (account_id)
                JOIN {wordings} ON w.tier = n.tier
                 AND w.unified_below = COALESCE(n.unified < w.above_enter, FALSE)
                 AND w.fit_below = COALESCE(n.fit < w.above_min_fit, FALSE)
              WHERE NOT ({LIFTED})
              RETURNING 1
            ),
            surges AS ({surges} RETURNING 1)
            SELECT NULL, (SELECT count(*) FROM changed) + (SELECT count(*) FROM added)
                   {", NULL" * (len(RETURNED.split(",")) - 2)}
            UNION ALL
            SELECT {MOVED} FROM changed WHERE old_tier IS NOT NULL AND old_tier <> tier
            UNION ALL
            SELECT {MOVED} FROM n JOIN added USING (account_id) WHERE {LIFTED}
            """,  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
        [
            *params,
            plan.model.pk,
            plan.model.pk,
            as_of,
            *where_old_params,
            plan.model.pk,
            as_of,
            plan.model.pk,
            plan.model.pk,
            as_of,
            *where_a_params,
            *where_o_params,
            plan.model.pk,
            as_of,
            *wordings_params,
            *surges_params,
        ],  # fmt: skip
    )


def sql_store(plan: Plan, selection: Selection, as_of: dt.datetime) -> int:
    """Run the store statement and record its tier moves and first placements; returns the number of score rows
    written.

    The moves stream from the statement (a new version can move hundreds of thousands of accounts): each gets its
    reason in words (tiers.move_reason) and goes to a spool file, copied into TierChange at the end, so memory stays
    flat whatever their number. First placements are recorded by the statement itself (a first publish places every
    account), but for those a surge lifts, which stream with the moves.
    """
    written = 0
    columns = "account_id, model_id, from_tier, to_tier, reason, fit, signal, unified, at"
    with connection.cursor() as cursor, tempfile.TemporaryFile("w+", newline="") as spool:
        if len(connection.atomic_blocks) == 1 and not connection.savepoint_ids:
            # The distinct values and the scoring statement must read the same snapshot.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _statement_settings(cursor, selection)
        # The statement writes new scores' territory and owner from the accounts it reads: the insert trigger that
        # would copy them again steps aside for it (migration segmentation/0016), and only for it.
        cursor.execute(f"SET LOCAL {SCOPE_WRITTEN} = 'on'")
        out, moves, at = csv.writer(spool), 0, as_of.isoformat()
        # Rows arrive in chunks (libpq's chunked mode): one round of Python per thousand moves, not per move.
        for values in cursor.cursor.stream(*_store_sql(plan, selection, as_of), size=STREAM_CHUNK):
            if values[0] is None:
                written = int(values[1])
                continue
            row = _row(values)
            out.writerow(
                [row.account_id, plan.model.pk, PLACED if row.placed else row.standing.tier, row.tier]
                + [row.move_reason(plan.rules), repr(row.fit), repr(row.signal), repr(row.unified), at]
            )
            moves += 1
        cursor.execute(f"SET LOCAL {SCOPE_WRITTEN} = 'off'")  # whatever the transaction inserts next is copied
        if moves:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {CHANGE_TABLE}")  # noqa: S608  # nosec B608  # the model's table
            before = cursor.fetchone()[0]
            spool.seek(0)
            # An empty from_tier (a placement) is the empty string, not NULL.
            copy_sql = (
                f"COPY {TierChange._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (from_tier))"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                while data := spool.read(1 << 20):
                    copy.write(data)
            # The moves' events, from the rows just copied (first placements lifted by a surge are not moves).
            where, where_params = selection.q("tc.account_id")
            tier_changes_recorded_after(
                after_id=before, model_id=plan.model.pk, at=as_of, where=where, params=where_params
            )
    return written
