"""The admin's editors (ICP, draft), publish and restore with a confirmation, and the score on the account page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from segmentation.explain import explain
from segmentation.models import ICP, AccountScore, ScoringModel
from segmentation.services import model_publish
from tests.factories import AccountFactory, ICPFactory, ScoringModelFactory, SignalFactory

pytestmark = pytest.mark.django_db


def formset(prefix: str, rows: list[dict], fields: list[str], initial: int = 0) -> dict:
    """What the page posts: `initial` rows were shown filled in, the rest were blank."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for number, row in enumerate(rows):
        for field in fields:
            data[f"{prefix}-{number}-{field}"] = row.get(field, "")
    return data


CRITERION_FIELDS = ["group", "attribute", "operator", "value", "points"]


def icp_post(criteria: list[dict], exclusions: list[dict] | None = None, name: str = "Enterprise") -> dict:
    return {
        "name": name,
        "description": "",
        **formset("criteria", criteria, CRITERION_FIELDS),
        **formset("exclusions", exclusions or [], ["attribute", "operator", "value"]),
    }


def test_an_admin_writes_an_icp_row_by_row(client, world):
    client.force_login(world.admin)
    response = client.post(
        reverse("icp-new"),
        icp_post(
            [
                {
                    "group": "Size",
                    "attribute": "employee_count",
                    "operator": "between",
                    "value": "200, 2000",
                    "points": "30",
                },
                {
                    "group": "Industry",
                    "attribute": "industry",
                    "operator": "in",
                    "value": "software, fintech",
                    "points": "20",
                },
                {},  # a blank row is ignored
            ],
            [{"attribute": "is_customer", "operator": "eq", "value": "true"}],
        ),
    )
    icp = ICP.objects.get(name="Enterprise")
    assert response.status_code == 302 and response["Location"] == reverse("icp-edit", args=[icp.pk])
    assert icp.criteria == [
        {"attribute": "employee_count", "operator": "between", "value": [200, 2000], "group": "Size", "points": 30.0},
        {
            "attribute": "industry",
            "operator": "in",
            "value": ["software", "fintech"],
            "group": "Industry",
            "points": 20.0,
        },
    ]
    assert icp.exclusions == [{"attribute": "is_customer", "operator": "eq", "value": True}]
    assert icp.updated_by == world.admin


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"attribute": "shoe_size", "operator": "eq", "value": "42", "points": "5"}, "No account holds “Shoe size”"),
        ({"attribute": "industry", "operator": "gte", "value": "5", "points": "5"}, "“≥” does not apply to Industry"),
        ({"attribute": "employee_count", "operator": "between", "value": "a, b", "points": "5"}, "Write numbers"),
        ({"attribute": "employee_count", "operator": "gte", "value": "", "points": "5"}, "Write a number"),
    ],
)
def test_a_bad_criterion_is_shown_next_to_its_row_and_nothing_is_saved(client, world, row, message):
    icp = ICPFactory()
    before = list(icp.criteria)
    client.force_login(world.admin)
    response = client.post(reverse("icp-edit", args=[icp.pk]), icp_post([row], name=icp.name))
    assert response.status_code == 200
    assert message in response.content.decode()
    icp.refresh_from_db()
    assert icp.criteria == before


def model_post(model: ScoringModel, **changes) -> dict:
    data = {
        f: getattr(model, f)
        for f in [
            "name", "notes", "w_fit", "w_signal", "w_coverage", "full_signal_points", "lookback_days",
            "engagement_window_days", "tier1_enter", "tier1_exit", "tier1_min_fit", "tier2_enter", "tier2_exit",
            "tier2_min_fit", "tier3_enter", "tier3_exit", "tier3_min_fit", "min_days_in_tier", "surge_window_days",
            "surge_delta", "surge_hold_days", "mqa_signal_min", "rejection_cooldown_days", "group_rollup",
        ]
    }  # fmt: skip
    data["contact_cap"] = "" if model.contact_cap is None else model.contact_cap
    data.update(icp=model.icp_id, required_personas=model.required_personas, mqa_tiers=model.mqa_tiers)
    rules = model.signal_rules
    data.update(formset("rules", rules, ["kind", "points", "half_life_days", "max_points"], initial=len(rules)))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"w_fit": "0.5"}, "The weights must sum to 1; they sum to 0.9."),
        ({"tier2_exit": "60"}, "Tier 2 exit (60) must not be above its enter (55)."),
        ({"rules-0-half_life_days": "0"}, "The half-life must be more than 0 days."),
        ({"rules-1-kind": "web_visit"}, "web_visit has two rules; keep one."),
    ],
)
def test_the_draft_editor_refuses_bad_numbers_with_a_message(client, world, changes, message):
    draft = ScoringModelFactory()
    client.force_login(world.admin)
    response = client.post(reverse("model-edit", args=[draft.pk]), model_post(draft, **changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ScoringModel.objects.get(pk=draft.pk).w_fit == draft.w_fit


def test_the_draft_editor_saves_and_an_active_version_cannot_be_edited(client, world):
    draft = ScoringModelFactory()
    client.force_login(world.admin)
    response = client.post(
        reverse("model-edit", args=[draft.pk]), model_post(draft, w_fit="0.5", w_signal="0.4", w_coverage="0.1")
    )
    assert response.status_code == 302
    rules = draft.signal_rules
    draft.refresh_from_db()
    assert (draft.w_fit, draft.w_signal, draft.updated_by) == (0.5, 0.4, world.admin)
    assert draft.signal_rules == rules  # unchanged rows are kept
    model_publish(model=draft, user=world.admin)
    response = client.get(reverse("model-edit", args=[draft.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("model-detail", args=[draft.pk])


def test_publish_asks_first_then_publishes_and_restore_likewise(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    first = ScoringModelFactory()
    page = client.get(reverse("model-publish", args=[first.pk])).content.decode()
    assert "Yes, publish" in page and "You have not previewed this version" in page
    first.refresh_from_db()
    assert first.status == "draft"  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("model-publish", args=[first.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/jobs/")
    second = ScoringModelFactory(icp=first.icp)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("model-preview", args=[second.pk]))
    detail = client.get(reverse("model-detail", args=[second.pk])).content.decode()
    assert "would change tier" in detail and "Compared with the active version" in detail
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("model-publish", args=[second.pk]))
    assert "Yes, restore" in client.get(reverse("model-restore", args=[first.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("model-restore", args=[first.pk]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("active", "archived")
    index = client.get(reverse("scoring-index")).content.decode()
    assert f"v{first.version}" in index and f"v{second.version}" in index


def test_the_account_page_explains_the_score_and_each_signal(client, world, django_capture_on_commit_callbacks):
    account = world.north_account
    SignalFactory(account=account, kind="meeting")
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=ScoringModelFactory(), user=None)
    score = AccountScore.objects.get(account=account)
    client.force_login(world.north_rep)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    for sentence in explain(score)["sentences"]:
        assert escape(sentence) in page
    assert "Meeting ×1" in page and "Points now" in page
    # The meeting happened a day before the score: 15 points x 0.5 ** (1 / 30).
    assert f"{15 * 0.5 ** (1 / 30):.2f}" in page


def test_scoring_pages_are_for_admins_only(client, world):
    draft = ScoringModelFactory()
    for name in ("north_rep", "manager"):
        client.force_login(getattr(world, name))
        assert client.get(reverse("scoring-index")).status_code == 403
        assert client.post(reverse("model-publish", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_django_admin_checks_icp_criteria_too(client, world):
    client.force_login(world.admin)
    bad = '[{"attribute": "shoe_size", "operator": "gte", "value": 40, "points": 5}]'
    response = client.post(
        "/admin/segmentation/icp/add/", {"name": "Via admin", "description": "", "criteria": bad, "exclusions": "[]"}
    )
    assert response.status_code == 200
    assert "Unknown attribute" in response.content.decode()
    assert not ICP.objects.filter(name="Via admin").exists()
    assert client.get("/admin/segmentation/scoringmodel/").status_code == 200
    assert client.get("/admin/segmentation/accountscore/").status_code == 200
    client.force_login(world.manager)
    assert client.get("/admin/segmentation/icp/").status_code in (302, 403)


def test_the_account_list_shows_and_filters_by_tier_and_sorts_by_score(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=ScoringModelFactory(), user=None)
    client.force_login(world.admin)
    scores = list(AccountScore.objects.select_related("account"))
    top = max(scores, key=lambda s: s.unified)
    page = client.get(reverse("account-list"), {"sort": "unified"}).content.decode()
    assert "Tier" in page and "Score" in page
    where = {s.account_id: page.index(f">{escape(s.account.name)}</a>") for s in scores}
    for a in scores:  # a better score is listed first
        for b in scores:
            if a.unified > b.unified:
                assert where[a.account_id] < where[b.account_id]
    page = client.get(reverse("account-list"), {"tier": top.tier}).content.decode()
    for s in AccountScore.objects.select_related("account"):
        assert (escape(s.account.name) in page) == (s.tier == top.tier)


def test_sorted_by_score_the_unscored_accounts_follow_by_name_and_the_page_says_so(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=ScoringModelFactory(), user=None)
    unscored = AccountFactory(name="Not Scored Yet Ltd")
    client.force_login(world.admin)
    scores = sorted(AccountScore.objects.select_related("account"), key=lambda s: (-s.unified, s.account_id))
    for sort, expected in [("-unified", scores), ("unified", sorted(scores, key=lambda s: (s.unified, s.account_id)))]:
        response = client.get(reverse("account-list"), {"sort": sort})
        listed = [row.record.pk for row in response.context["table"].paginated_rows]
        assert listed == [s.account_id for s in expected] + [unscored.pk]
        assert "any account not scored yet follows, by name" in response.content.decode()
    by_name = client.get(reverse("account-list"), {"sort": "name"})
    assert "Not Scored Yet Ltd" in by_name.content.decode()
    assert "not scored yet follows" not in by_name.content.decode()


def _published_meanwhile(model: ScoringModel):
    """What a publish committing in another request does to the row, while this request is between its checks."""
    ScoringModel.objects.filter(pk=model.pk).update(status="active", published_at=timezone.now())


def test_a_publish_that_commits_while_the_draft_editor_saves_stands(client, world, monkeypatch):
    from segmentation.forms import ScoringModelForm

    draft = ScoringModelFactory()
    clean = ScoringModelForm.clean
    monkeypatch.setattr(ScoringModelForm, "clean", lambda form: (_published_meanwhile(draft), clean(form))[1])
    client.force_login(world.admin)
    response = client.post(reverse("model-edit", args=[draft.pk]), model_post(draft, notes="a late edit"))
    assert response.status_code == 302 and response["Location"] == reverse("model-detail", args=[draft.pk])
    draft.refresh_from_db()
    assert (draft.status, draft.notes) == ("active", "")  # the publish stands; the late edit changed nothing
    assert "not a draft" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("recent", "older", "reads_the_window"),
    [
        (3, 0, False),  # every signal of the account is on the page
        (95, 10, False),  # more than the page shows, but what it shows reaches back past the look-back window
        (104, 0, True),  # more than the page shows inside the window: the explanation reads the window
    ],
)
def test_the_account_page_explains_the_score_from_the_signals_it_shows_when_they_hold_the_window(
    client, world, django_capture_on_commit_callbacks, recent, older, reads_the_window
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.views import DETAIL_ROWS

    account = world.north_account
    model = ScoringModelFactory(lookback_days=90)
    now = timezone.now()
    kinds = ["meeting", "web_visit", "content_download"]
    for i in range(recent):
        SignalFactory(account=account, kind=kinds[i % 3], occurred_at=now - dt.timedelta(hours=5 + i * 7))
    for i in range(older):
        SignalFactory(account=account, kind="meeting", occurred_at=now - dt.timedelta(days=200 + i))
    assert recent + older > DETAIL_ROWS or not older
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=model, user=None)
    score = AccountScore.objects.get(account=account)
    expected = explain(score)  # read from the database
    client.force_login(world.north_rep)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    window = [
        q["sql"] for q in captured.captured_queries if 'FROM "accounts_signal"' in q["sql"] and "COUNT(" not in q["sql"]
    ]
    assert len(window) == (2 if reads_the_window else 1), window  # the page's latest signals, and the window
    for sentence in expected["sentences"]:
        assert escape(sentence) in page
    for kind in expected["signal"]["kinds"]:
        row = f'<td>{kind["label"]}</td><td class="text-end">{kind["signals"]}</td>'
        assert row in page, row
