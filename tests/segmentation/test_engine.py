"""The stored scores: bulk rescore jobs, re-runs, interruption, incremental rescoring; equal to the pure module."""

import datetime as dt

import pytest

from accounts.criteria import VALUE_COLUMNS as VALUE_FIELDS
from accounts.criteria import account_values
from accounts.imports import import_records
from accounts.models import Account, PendingRescore, Signal
from core.models import Job
from segmentation import services
from segmentation.definition import scoring_params, tier_rules
from segmentation.engine import EXPLANATION_FIELDS, Plan, Selection, score_and_store, score_rows, shadow_rows
from segmentation.models import AccountScore, RescoreChunk, ScoringModel
from segmentation.scoring import SignalEvent, compact_explanation, score_and_place
from segmentation.services import incremental, rescore
from segmentation.tiers import Standing
from tests.factories import AccountFactory, ContactFactory, ScoringModelFactory, SignalFactory

pytestmark = pytest.mark.django_db
AS_OF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def pure_scores(
    model: ScoringModel,
    as_of: dt.datetime,
    standings: dict[int, Standing] | None = None,
    placements: dict | None = None,
) -> dict:
    """Every account scored and placed by the pure modules, one at a time, straight from the rows; `standings`:
    what was stored before (none: unscored, or scored by another version); `placements` receives each placement."""
    params, rules = scoring_params(model), tier_rules(model)
    events: dict[int, list] = {}
    for account_id, kind, occurred_at, persona, contact in Signal.objects.values_list(
        "account_id", "kind", "occurred_at", "contact__persona", "contact_id"
    ):
        events.setdefault(account_id, []).append(SignalEvent(kind, occurred_at, persona, contact))
    result = {}
    for values in Account.objects.values(*VALUE_FIELDS):
        standing = (standings or {}).get(values["id"], Standing())
        scored = score_and_place(params, rules, account_values(values), events.get(values["id"], []), standing, as_of)
        score, placement = scored.score, scored.placement
        if placements is not None:
            placements[values["id"]] = placement
        result[values["id"]] = (
            score.fit,
            score.signal,
            score.coverage,
            score.unified,
            placement.tier,
            compact_explanation(score),
        )
    return result


def stored_scores() -> dict[int, tuple]:
    return {
        s.account_id: (s.fit, s.signal, s.coverage, s.unified, s.tier, {f: getattr(s, f) for f in EXPLANATION_FIELDS})
        for s in AccountScore.objects.all()
    }


def assert_same(found: dict[int, tuple], expected: dict[int, tuple]) -> None:
    assert found.keys() == expected.keys()
    for account_id, (fit, signal, coverage, unified, tier, explanation) in expected.items():
        got = found[account_id]
        assert got[:5] == (fit, signal, pytest.approx(coverage), unified, tier), account_id
        assert got[5]["matched"] == explanation["matched"]
        assert got[5]["excluded"] == explanation["excluded"]
        assert got[5]["personas"] == explanation["personas"]


def small_world():
    """Accounts that hit every part of the model: sizes, penalties, exclusions, signals old and new, personas."""
    accounts = [
        AccountFactory(industry="Software", employee_count=500, country="United States"),
        AccountFactory(industry="fintech ", employee_count=5000, country="Germany"),
        AccountFactory(industry="retail", employee_count=50, country="United States", is_customer=True),
        AccountFactory(industry="", employee_count=None, country=""),
        AccountFactory(industry="software", employee_count=2000, country="united states", attributes={"tier": "a"}),
    ]
    champion = ContactFactory(account=accounts[0], persona="champion")
    buyer = ContactFactory(account=accounts[0], persona="economic_buyer")
    for days, kind, contact in [
        (1, "web_visit", champion),
        (14, "web_visit", None),
        (30, "meeting", buyer),
        (100, "content_download", champion),
        (400, "meeting", None),  # beyond the lookback
        (-2, "meeting", None),  # in the future
        (3, "unknown_kind", None),
    ]:
        SignalFactory(account=accounts[0], kind=kind, contact=contact, occurred_at=AS_OF - dt.timedelta(days=days))
    for n in range(30):
        SignalFactory(account=accounts[1], kind="web_visit", occurred_at=AS_OF - dt.timedelta(hours=5 * n))
    SignalFactory(account=accounts[2], kind="funding_round", occurred_at=AS_OF - dt.timedelta(days=90))
    return accounts


def publish(model, as_of=AS_OF, django_capture_on_commit_callbacks=None) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = services.model_publish(model=model, user=None, as_of=as_of)
    job.refresh_from_db()
    return job


def test_a_published_model_scores_every_account_as_the_pure_module_does(django_capture_on_commit_callbacks):
    small_world()
    model = ScoringModelFactory()
    job = publish(model, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.done == job.total == 5
    model.refresh_from_db()
    assert_same(stored_scores(), pure_scores(model, AS_OF))
    assert set(AccountScore.objects.values_list("model_id", flat=True)) == {model.pk}
    tiers = dict(AccountScore.objects.values_list("account__industry", "tier"))
    assert tiers["retail"] == "suppress"  # a customer: excluded


def test_computed_scores_equal_stored_ones_and_the_pure_module():
    small_world()
    model = ScoringModelFactory()
    rows = {
        r.account_id: (r.fit, r.signal, r.coverage, r.unified, r.tier, r.explanation)
        for r in score_rows(Plan.of(model), Selection(), AS_OF)
    }
    assert_same(rows, pure_scores(model, AS_OF))


def test_rerunning_a_finished_job_changes_nothing(django_capture_on_commit_callbacks):
    small_world()
    model = ScoringModelFactory()
    job = publish(model, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    before = {s.account_id: (s.computed_at, s.unified, s.tier) for s in AccountScore.objects.all()}
    model.refresh_from_db()
    # Its steps delivered again (a broker redelivers after a lost acknowledgement): each is already done.
    assert not any(services.rescore_chunk_run(job.pk, c.number) for c in RescoreChunk.objects.filter(job=job))
    # The same rescore run again, as a new job at the same moment: every row is already what it would write.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.rescore_job_start(model=model, as_of=AS_OF)
    again.refresh_from_db()
    assert again.status == Job.Status.SUCCEEDED
    assert score_and_store(Plan.of(model), Selection(), AS_OF) == 0
    after = {s.account_id: (s.computed_at, s.unified, s.tier) for s in AccountScore.objects.all()}
    assert after == before


def test_an_interrupted_job_completes_on_resume_with_every_account_on_the_new_version(
    django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(rescore, "CHUNK_ACCOUNTS", 2)
    monkeypatch.setattr(rescore, "rescore_slices", lambda: [(0, ids[2]), (ids[2], ids[4]), (ids[4], None)])
    accounts = small_world()
    ids = sorted(a.pk for a in accounts)
    first = ScoringModelFactory()
    publish(first, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    second = ScoringModelFactory(icp=first.icp, w_fit=0.2, w_signal=0.7, w_coverage=0.1)

    # The workers die after the first slice: the other slices never run.
    job = services.model_publish(model=second, user=None, as_of=AS_OF)
    steps = RescoreChunk.objects.filter(job=job)
    assert steps.count() == 3
    assert services.rescore_chunk_run(job.pk, 0)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.done == 2
    assert set(AccountScore.objects.values_list("model_id", flat=True)) == {first.pk, second.pk}

    with django_capture_on_commit_callbacks(execute=True):
        assert services.rescore_job_resume(job) == 2
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.done == 5
    second.refresh_from_db()
    assert set(AccountScore.objects.values_list("model_id", flat=True)) == {second.pk}
    assert_same(stored_scores(), pure_scores(second, AS_OF))
    assert AccountScore.objects.count() == len(accounts)


def test_a_superseded_job_stops_and_never_writes_the_old_version(django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(rescore, "CHUNK_ACCOUNTS", 2)
    small_world()
    first = ScoringModelFactory()
    job = services.model_publish(model=first, user=None, as_of=AS_OF)  # queued, never run
    second = ScoringModelFactory(icp=first.icp)
    publish(second, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert services.rescore_chunk_run(job.pk, 0) is False
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no longer active" in job.error
    assert set(AccountScore.objects.values_list("model_id", flat=True)) == {second.pk}


def test_a_new_signal_rescores_its_account_after_commit(django_capture_on_commit_callbacks):
    account = AccountFactory()
    model = ScoringModelFactory()
    publish(model, as_of=dt.datetime.now(dt.UTC), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert AccountScore.objects.get(account=account).signal == 0
    with django_capture_on_commit_callbacks(execute=True):
        import_records(
            kind="signals", records=[{"account": account.pk, "kind": "meeting", "occurred_at": dt.datetime.now(dt.UTC)}]
        )
    score = AccountScore.objects.get(account=account)
    assert score.signal == 15.0  # one fresh meeting: 15 points of 100
    assert not PendingRescore.objects.exists()


def test_a_burst_of_signals_for_one_account_is_rescored_once(django_capture_on_commit_callbacks, monkeypatch):
    account = AccountFactory()
    publish(ScoringModelFactory(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    scored = []
    real = incremental.score_and_store
    monkeypatch.setattr(
        incremental,
        "score_and_store",
        lambda plan, sel, as_of, **kw: scored.append(sel.ids) or real(plan, sel, as_of, **kw),
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for minute in range(20):
            import_records(
                kind="signals",
                records=[
                    {"account": account.pk, "kind": "web_visit", "occurred_at": AS_OF - dt.timedelta(minutes=minute)}
                ],
            )
        assert PendingRescore.objects.filter(account_id=account.pk).count() == 1
    assert len(callbacks) >= 1
    assert scored == [(account.pk,)]


def test_the_daily_rescore_applies_decay(django_capture_on_commit_callbacks):
    account = AccountFactory()
    SignalFactory(account=account, kind="meeting", occurred_at=AS_OF)
    publish(ScoringModelFactory(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert AccountScore.objects.get(account=account).signal == 15.0
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_start(as_of=AS_OF + dt.timedelta(days=30))  # one half-life later
    assert AccountScore.objects.get(account=account).signal == 7.5


@pytest.mark.postgres
def test_a_rescore_never_drops_the_score_indexes_lists_sort_by(django_capture_on_commit_callbacks):
    """Lists sorted by score keep their indexes while any rescore runs: a first fill, the daily rescore, and a new
    version that rewrites every row (bench/rescore.py measures what keeping them costs)."""
    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres()
    small_world()

    def indexes() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'segmentation_accountscore'")
            return {row[0] for row in cursor.fetchall()}

    wanted = {"score_tier_unified_id_idx", "score_unified_idx"}
    assert wanted <= indexes()
    job = services.model_publish(model=ScoringModelFactory(), user=None, as_of=AS_OF)  # queued, not run yet
    assert wanted <= indexes()
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_resume(job)
    assert wanted <= indexes()
    assert AccountScore.objects.count() == 5

    again = services.rescore_job_start(as_of=AS_OF + dt.timedelta(days=1))
    assert wanted <= indexes()
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_resume(again)

    newer = services.model_publish(model=ScoringModelFactory(w_fit=0.5, w_signal=0.4), user=None, as_of=AS_OF)
    assert wanted <= indexes()
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_resume(newer)
    assert wanted <= indexes()
    assert set(AccountScore.objects.values_list("model", flat=True)) == {newer.params["model_id"]}


def test_a_future_dated_persona_signal_engages_no_one(django_capture_on_commit_callbacks):
    """Coverage counts personas with a signal in the window before the score's moment, not after it (both engines)."""
    account = AccountFactory()
    champion = ContactFactory(account=account, persona="champion")
    buyer = ContactFactory(account=account, persona="economic_buyer")
    SignalFactory(account=account, contact=champion, kind="meeting", occurred_at=AS_OF - dt.timedelta(days=2))
    SignalFactory(account=account, contact=buyer, kind="meeting", occurred_at=AS_OF + dt.timedelta(hours=2))
    model = ScoringModelFactory(required_personas=["champion", "economic_buyer"])
    publish(model, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert AccountScore.objects.get(account=account).coverage == 0.5


# Shadow scores: a draft run beside the active version.


def pure_shadow_scores(model: ScoringModel, as_of: dt.datetime) -> dict[int, tuple]:
    """Every account scored by the pure module with `model`, and the candidate tier of those rounded scores."""
    from segmentation.scoring import score_account
    from segmentation.tiers import candidate_tier

    params, rules = scoring_params(model), tier_rules(model)
    events: dict[int, list] = {}
    for account_id, kind, occurred_at, persona, contact in Signal.objects.values_list(
        "account_id", "kind", "occurred_at", "contact__persona", "contact_id"
    ):
        events.setdefault(account_id, []).append(SignalEvent(kind, occurred_at, persona, contact))
    result = {}
    for values in Account.objects.values(*VALUE_FIELDS):
        score = score_account(params, account_values(values), events.get(values["id"], []), as_of)
        tier = candidate_tier(rules.thresholds, fit=score.fit, unified=score.unified, excluded=score.excluded)
        result[values["id"]] = (score.fit, score.signal, pytest.approx(score.coverage), score.unified, tier)
    return result


def stored_shadow_scores(model: ScoringModel) -> dict[int, tuple]:
    from segmentation.models import ShadowScore

    return {
        s.account_id: (s.fit, s.signal, s.coverage, s.unified, s.tier) for s in ShadowScore.objects.filter(model=model)
    }


def live_state() -> tuple:
    """Everything live a shadow run must leave alone: every stored score field for field, the tier moves, the MQAs
    and the handoffs."""
    from handoffs.models import Handoff
    from segmentation.models import MQA, TierChange

    scores = sorted(AccountScore.objects.values_list(*[f.attname for f in AccountScore._meta.concrete_fields]))
    return (
        scores,
        sorted(TierChange.objects.values_list("pk", "account_id", "to_tier")),
        sorted(MQA.objects.values_list("pk", "account_id", "status")),
        sorted(Handoff.objects.values_list("pk", "status")),
    )


def a_challenger(live: ScoringModel) -> ScoringModel:
    """A draft that weighs signals far more than the active version, so that its tiers differ."""
    return services.model_draft_create(
        user=None,
        based_on=live,
        w_fit=0.3,
        w_signal=0.6,
        w_coverage=0.1,
        tier1_enter=60,
        tier1_exit=55,
        tier1_min_fit=40,
    )


def test_a_shadow_run_scores_every_account_as_the_pure_module_does_and_changes_nothing_live(
    django_capture_on_commit_callbacks,
):
    small_world()
    live = ScoringModelFactory()
    publish(live, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    draft = a_challenger(live)
    before = live_state()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.model_shadow_start(model=draft, user=None, as_of=AS_OF)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["summary"]["accounts scored"] == 5
    expected = pure_shadow_scores(draft, AS_OF)
    assert stored_shadow_scores(draft) == expected
    assert live_state() == before  # the first pass touches nothing live
    draft.refresh_from_db()
    assert draft.is_draft and draft.in_shadow


def test_every_rescore_scores_the_shadow_version_too_and_lives_as_without_it(django_capture_on_commit_callbacks):
    accounts = small_world()
    live = ScoringModelFactory()
    publish(live, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    draft = a_challenger(live)
    with django_capture_on_commit_callbacks(execute=True):
        services.model_shadow_start(model=draft, user=None, as_of=AS_OF)

    # A full rescore later: the live scores are what the engine computes without a shadow, the shadow's are the pure
    # module's at the new moment.
    later = AS_OF + dt.timedelta(days=20)
    live.refresh_from_db()
    computed = {
        r.account_id: (r.fit, r.signal, r.coverage, r.unified, r.tier, r.explanation)
        for r in score_rows(Plan.of(live), Selection(), later)
    }
    with django_capture_on_commit_callbacks(execute=True):
        job = services.rescore_job_start(model=live, as_of=later)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert_same(stored_scores(), computed)
    assert stored_shadow_scores(draft) == pure_shadow_scores(draft, later)
    from segmentation.models import ShadowScore

    assert ShadowScore.objects.count() == 5

    # The incremental rescore of a queued account scores it in shadow too (and only it).
    moment = later + dt.timedelta(days=1)
    SignalFactory(account=accounts[3], kind="meeting", occurred_at=moment - dt.timedelta(hours=1))
    PendingRescore.objects.create(account_id=accounts[3].pk)
    incremental.rescore_pending(as_of=moment)
    shadow = ShadowScore.objects.get(account=accounts[3])
    assert shadow.as_of == moment and shadow.signal == pure_shadow_scores(draft, moment)[accounts[3].pk][1] > 0
    assert list(ShadowScore.objects.filter(as_of=moment).values_list("account_id", flat=True)) == [accounts[3].pk]


def test_a_rescore_without_a_shadow_writes_no_shadow_score(django_capture_on_commit_callbacks):
    from segmentation.models import ShadowScore

    small_world()
    publish(ScoringModelFactory(), django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert not ShadowScore.objects.exists()


def test_computed_shadow_scores_equal_the_pure_module():
    small_world()
    live = ScoringModelFactory()
    draft = a_challenger(live)
    rows = {
        r.account_id: (r.fit, r.signal, r.coverage, r.unified, r.tier)
        for r in shadow_rows(Plan.of(draft), Selection(), AS_OF)
    }
    assert rows == pure_shadow_scores(draft, AS_OF)
