"""After a breach: who is blamed (the owner when it was breached, on the SLA tables and the territory board), who was
told and who could not be (on the handoff and on the sweep's job), and reassignment moving the account's owner too."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Account
from core.models import Job
from handoffs import services as handoffs
from handoffs.models import Handoff, SlaPolicy
from handoffs.selectors import handoff_list, sla_compliance, territory_member_sla
from handoffs.services import AlreadyDecided, handoff_accept, handoff_reassign, sla_sweep
from territories.models import Membership, OwnershipChange
from tests.factories import MembershipFactory, MQAFactory, UserFactory

pytestmark = pytest.mark.django_db
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
LATER = MONDAY_10 + dt.timedelta(hours=5)


def policy(action="notify_manager", hours=4):
    SlaPolicy.objects.update_or_create(
        tier="tier_1",
        defaults={"accept_within_hours": hours, "calendar": "24x7", "breach_action": action, "time_zone": "UTC"},
    )


def handed(account, now=MONDAY_10) -> Handoff:
    mqa = MQAFactory(account=account, tier="tier_1")
    handoffs.handoffs_create([mqa.pk], now=now)
    return Handoff.objects.get(mqa=mqa)


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


@pytest.fixture
def zed(world):
    """Another rep of North, after north_rep by username: the one a breach action reassigns to."""
    helper = named(UserFactory(username="north_zed", role="rep"), "Zed", "Zimmer")
    MembershipFactory(user=helper, territory=world.north)
    named(world.north_rep, "Nora", "North")
    return helper


def rows_by_label(report_rows):
    return {row.label: row for row in report_rows}


def counts(row):
    return (row.handoffs, row.decided, row.on_time, row.breached, row.measured)


# --- Who is blamed --------------------------------------------------------------------------------------------------


def test_a_breach_counts_against_the_rep_who_held_the_handoff_not_the_one_it_was_reassigned_to(
    world, zed, django_capture_on_commit_callbacks
):
    policy(action="reassign")
    late = handed(world.north_account)
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep(now=LATER)
    late.refresh_from_db()
    assert result.reassigned == [late.pk]
    assert (late.owner, late.breached_by, late.breached_at) == (zed, world.north_rep, LATER)
    handoff_accept(user=zed, handoff_id=late.pk)  # well inside zed's own fresh clock

    report = sla_compliance(handoffs=handoff_list(user=world.manager), now=LATER + dt.timedelta(hours=1))
    by_rep = rows_by_label(report.by_owner)
    assert counts(by_rep["Nora North"]) == (1, 1, 0, 1, 1) and by_rep["Nora North"].compliance == 0
    assert "Zed Zimmer" not in by_rep  # decided in time, but the breach was not theirs and stays a breach
    assert counts(report.total) == (1, 1, 0, 1, 1)


def test_a_manual_reassignment_after_a_breach_keeps_the_blame(world, zed, django_capture_on_commit_callbacks):
    policy(action="notify_manager")
    late = handed(world.north_account)
    sla_sweep(now=LATER)
    handoff_reassign(user=world.manager, handoff_id=late.pk, owner_id=zed.pk)
    report = sla_compliance(handoffs=handoff_list(user=world.manager), now=LATER + dt.timedelta(hours=1))
    assert [(row.label, row.breached) for row in report.by_owner] == [("Nora North", 1)]


def test_the_handoff_list_owner_filter_shows_the_breaching_reps_compliance(
    client, world, zed, django_capture_on_commit_callbacks
):
    policy(action="reassign")
    handed(world.north_account)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=LATER)
    client.force_login(world.manager)
    page = client.get(reverse("handoff-list"), {"owner": world.north_rep.pk})
    compliance = page.context["compliance"]
    assert [(row.label, row.breached, row.compliance) for row in compliance.by_owner] == [("Nora North", 1, 0)]
    assert len(page.context["table"].paginated_rows) == 0  # the list itself: owned by zed now
    html = client.get(reverse("handoff-list")).content.decode()
    assert "Breached</span> 2026-11-16 15:00 by Nora North" in html


def test_the_territory_board_shows_sla_compliance_per_member(client, world, zed, django_capture_on_commit_callbacks):
    policy(action="reassign")
    handed(world.north_account)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=LATER)
    rows, total = territory_member_sla(user=world.manager, territory_id=world.north.pk, now=LATER)
    assert [(item.row.label, item.member, item.row.breached, item.row.compliance) for item in rows] == [
        ("Nora North", True, 1, 0),
        ("Zed Zimmer", True, 0, None),  # a member with nothing settled: a row all the same
    ]
    assert counts(total) == (1, 0, 0, 1, 1)
    client.force_login(world.manager)
    html = client.get(reverse("territory-detail", args=[world.north.pk])).content.decode()
    assert 'id="territory-sla"' in html
    board = html[html.index('id="territory-sla"') :]
    assert board.index("Nora North") < board.index("0.0%") < board.index("Zed Zimmer")
    # Another manager cannot see North's board at all.
    client.force_login(world.other_manager)
    assert client.get(reverse("territory-detail", args=[world.north.pk])).status_code == 404


def test_the_board_tag_counts_only_handoffs_the_viewer_may_see(world, zed):
    policy()
    handed(world.north_account)
    sla_sweep(now=LATER)
    request = RequestFactory().get("/")
    template = Template("{% load handoff_tags %}{% territory_sla territory %}")
    for user, breaches in ((world.manager, 1), (world.other_manager, 0)):
        request.user = user
        html = template.render(Context({"request": request, "territory": world.north}))
        assert 'data-key="all"' in html
        assert f'<td class="text-end">{breaches}</td><td class="text-end">{breaches}</td>' in html.split("tfoot")[1]


def test_a_former_member_who_breached_is_still_listed(world, zed):
    policy()
    handed(world.north_account)
    sla_sweep(now=LATER)
    Membership.objects.filter(user=world.north_rep, territory=world.north).update(is_active=False)
    rows, _ = territory_member_sla(user=world.manager, territory_id=world.north.pk, now=LATER)
    assert [(item.row.label, item.member) for item in rows] == [("Zed Zimmer", True), ("Nora North", False)]


# --- Who was told ---------------------------------------------------------------------------------------------------


def test_managers_without_an_address_are_named_on_the_handoff_and_on_the_sweeps_job(
    client, world, zed, django_capture_on_commit_callbacks
):
    policy()
    named(world.manager, "Mia", "Manager")
    world.manager.email = ""
    world.manager.save()
    named(world.admin, "Ada", "Admin")
    late = handed(world.north_account)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep(now=LATER)
    late.refresh_from_db()
    # No manager of North can be e-mailed: the admins are told instead, and the handoff says who was not.
    assert late.breach_audience == {"to": "admins", "told": ["Ada Admin"], "not_told": ["Mia Manager"]}
    assert [m.to for m in mail.outbox if m.subject.startswith("SLA breached")] == [[world.admin.email]]
    assert (result.not_told, result.not_told_accounts) == ({"Mia Manager": 1}, {"Mia Manager": ["North account"]})

    job = Job.objects.get(pk=result.job_id)
    assert (job.status, job.title, job.created_by) == ("succeeded", "SLA sweep", None)
    assert job.result["summary"]["Breached now"] == 1
    assert job.result["summary"]["People who could not be told"] == 1
    assert job.result["notes"] == ["Mia Manager has no e-mail address: not told of the breach of North account."]

    client.force_login(world.manager)
    page = client.get(reverse("handoff-detail", args=[late.pk])).content.decode()
    assert "Not told of the breach:</strong> Mia Manager (no e-mail address)." in page
    assert "Told by e-mail (the RevOps admins, as no manager of the territory could be): Ada Admin." in page
    assert "by <strong>Nora North</strong>, who held it then" in page
    listed = client.get(reverse("handoff-list")).content.decode()
    assert "Not told (no e-mail address): Mia Manager" in listed
    client.force_login(world.admin)
    assert "Mia Manager has no e-mail address" in client.get(reverse("job-detail", args=[job.pk])).content.decode()


def test_when_nobody_can_be_told_the_handoff_says_so_and_no_email_pretends_to_go(
    client, world, zed, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import User

    policy()
    User.objects.update(email="")
    late = handed(world.north_account)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_sweep(now=LATER)
    assert mail.outbox == [] and result.told == 0
    late.refresh_from_db()
    assert late.breach_audience == {
        "to": "admins",
        "told": [],
        "not_told": [world.manager.get_full_name(), world.admin.get_full_name()],
    }
    assert set(result.not_told) == {world.manager.get_full_name(), world.admin.get_full_name()}
    client.force_login(world.manager)
    page = client.get(reverse("handoff-detail", args=[late.pk])).content.decode()
    assert "Nobody was e-mailed about it." in page


def test_a_sweep_with_every_manager_reachable_notes_nothing_and_one_without_breaches_records_no_job(world, zed):
    policy()
    handed(world.north_account)
    result = sla_sweep(now=LATER)
    assert result.not_told == {} and result.told == 1
    assert Job.objects.get(pk=result.job_id).result["notes"] == []
    again = sla_sweep(now=LATER + dt.timedelta(minutes=1))
    assert again.job_id is None and Job.objects.filter(title="SLA sweep").count() == 1


def test_the_sweep_command_names_who_could_not_be_told(world, zed, capsys):
    from django.core.management import call_command

    policy(hours=1)
    world.manager.email = ""
    world.manager.save()
    handed(world.north_account, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    call_command("sla_sweep")
    out = capsys.readouterr().out
    assert f"{world.manager.get_full_name()} has no e-mail address" in out and "Recorded as job" in out


# --- Reassignment moves the account --------------------------------------------------------------------------------


def test_reassigning_a_handoff_moves_the_accounts_owner_through_territories(world, zed):
    policy()
    handoff = handed(world.north_account)
    moved = handoff_reassign(user=world.manager, handoff_id=handoff.pk, owner_id=zed.pk)
    assert moved.owner == zed
    assert Account.objects.get(pk=world.north_account.pk).owner == zed
    change = OwnershipChange.objects.get(account=world.north_account)
    assert (change.from_owner, change.to_owner, change.changed_by, change.rule) == (
        world.north_rep,
        zed,
        world.manager,
        "manual reassignment",
    )


def test_when_the_account_cannot_move_nothing_moves_and_the_reason_is_given(client, world, zed):
    policy()
    handoff = handed(world.north_account)
    # The account has since moved to the South, outside the North manager's territories.
    Account.objects.filter(pk=world.north_account.pk).update(territory=world.south)
    with pytest.raises(ValidationError) as refused:
        handoff_reassign(user=world.manager, handoff_id=handoff.pk, owner_id=zed.pk)
    assert refused.value.messages == ["its account's owner cannot change: North account is outside your territories."]
    handoff.refresh_from_db()
    assert handoff.owner == world.north_rep and Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    client.force_login(world.manager)
    response = client.post(reverse("handoff-reassign", args=[handoff.pk]), {"owner": zed.pk}, follow=True)
    assert (
        "North account was not reassigned: its account&#x27;s owner cannot change: North account is outside your "
        "territories." in response.content.decode()
    )


def test_a_decided_handoff_is_not_reassigned_and_its_account_stays(world, zed):
    policy()
    handoff = handed(world.north_account)
    handoff_accept(user=world.north_rep, handoff_id=handoff.pk)
    with pytest.raises(AlreadyDecided):
        handoff_reassign(user=world.manager, handoff_id=handoff.pk, owner_id=zed.pk)
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep


def test_the_reassign_page_says_the_account_goes_too(client, world, zed):
    policy()
    handoff = handed(world.north_account)
    client.force_login(world.manager)
    response = client.post(reverse("handoff-reassign", args=[handoff.pk]), {"owner": zed.pk}, follow=True)
    assert "North account now goes to Zed Zimmer, and so does the account; their clock starts now." in (
        response.content.decode()
    )


# --- The handoff page -----------------------------------------------------------------------------------------------


def test_the_handoff_page_shows_the_clock_and_who_may_act(client, world, zed):
    policy()
    handoff = handed(world.north_account, now=dt.datetime.now(dt.UTC))
    client.force_login(world.north_rep)
    page = client.get(reverse("handoff-detail", args=[handoff.pk])).content.decode()
    assert '4 hours left</span> · <span class="countdown-due text-nowrap">due ' in page
    assert "4 hours, 24x7" in page
    assert "handoff-reassign" not in page  # a rep does not reassign
    client.force_login(world.manager)
    page = client.get(reverse("handoff-detail", args=[handoff.pk])).content.decode()
    assert 'class="d-flex flex-wrap gap-2 align-items-center handoff-reassign"' in page
    assert f'<option value="{zed.pk}">Zed Zimmer</option>' in page
    for outsider in (world.other_rep, world.other_manager, world.rep):
        client.force_login(outsider)
        assert client.get(reverse("handoff-detail", args=[handoff.pk])).status_code == 404


def test_the_sweeps_notes_name_a_few_accounts_and_count_the_rest():
    result = handoffs.SweepResult(
        not_told={"Mia Manager": 7, "Max Manager": 1},
        not_told_accounts={"Mia Manager": ["A", "B", "C", "D", "E"], "Max Manager": ["F"]},
    )
    assert result.notes() == [
        "Max Manager has no e-mail address: not told of the breach of F.",
        "Mia Manager has no e-mail address: not told of the 7 breaches of A, B, C, D, E and 2 more.",
    ]


def test_breaches_from_before_blame_was_stored_are_given_the_owner_who_held_them_then(world):
    """The migration that adds `breached_by`: the owner, unless the handoff was reassigned after its breach."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("handoffs.migrations.0002_breach_blame_and_audience")
    policy()
    kept, moved, pending = (handed(a) for a in (world.north_account, world.owned_by_rep, world.south_account))
    Handoff.objects.filter(pk=kept.pk).update(breached_at=LATER)
    Handoff.objects.filter(pk=moved.pk).update(breached_at=LATER, assigned_at=LATER + dt.timedelta(minutes=1))
    migration.blame_the_owner_at_the_breach(apps, None)
    blamed = dict(Handoff.objects.values_list("pk", "breached_by"))
    assert blamed == {kept.pk: world.north_rep.pk, moved.pk: None, pending.pk: None}


def test_the_api_reassigns_the_account_too_or_answers_400_with_the_reason(client, world, zed):
    policy()
    handoff = handed(world.north_account)
    client.force_login(world.manager)
    url = reverse("api:handoff-reassign", args=[handoff.pk])
    Account.objects.filter(pk=world.north_account.pk).update(territory=world.south)
    refused = client.post(url, {"owner": zed.pk}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["owner"] == ["its account's owner cannot change: North account is outside your territories."]
    Account.objects.filter(pk=world.north_account.pk).update(territory=world.north)
    moved = client.post(url, {"owner": zed.pk}, content_type="application/json")
    assert moved.status_code == 200 and moved.json()["owner"] == zed.pk
    assert Account.objects.get(pk=world.north_account.pk).owner == zed


def test_giving_a_handoff_to_a_rep_who_is_away_asks_first(client, world, zed):
    policy()
    handoff = handed(world.north_account)
    Membership.objects.filter(user=zed, territory=world.north).update(
        away_from=dt.date.today() - dt.timedelta(days=1), away_until=dt.date.today() + dt.timedelta(days=5)
    )
    client.force_login(world.manager)
    page = client.post(reverse("handoff-reassign", args=[handoff.pk]), {"owner": zed.pk, "next": "/handoffs/"})
    assert page.status_code == 200
    text = page.content.decode()
    assert f"{zed.get_full_name()} is away until" in text and "Give to" in text and 'name="confirmed"' in text
    handoff.refresh_from_db()
    assert handoff.owner == world.north_rep  # nothing changes before the manager confirms
    done = client.post(reverse("handoff-reassign", args=[handoff.pk]), {"owner": zed.pk, "confirmed": "on"})
    assert done.status_code == 302
    handoff.refresh_from_db()
    assert handoff.owner == zed and Account.objects.get(pk=world.north_account.pk).owner == zed
