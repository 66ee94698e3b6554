"""Chat alerts against local stand-ins of Slack's and Teams' incoming webhooks: who is told where, in what words and
shapes, the cooldown's digest, retries, failures, opt-outs, and the pages."""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.events import record, sequence
from integrations.alerts.addresses import AddressRefused, check_webhook_url
from integrations.alerts.delivery import retry_after_seconds
from integrations.alerts.services import alerts_drain
from integrations.models import Alert, AlertChannel, AlertPreference

from ..factories import AccountFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.usefixtures("local_webhooks")

LATER = dt.timedelta(minutes=6)  # past the 5-minute cooldown


def named(user, first, last):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def channel(server, *, territory=None, name="#sales", **carries):
    return AlertChannel.objects.create(
        kind=server.tool, name=name, webhook_url=server.hook(name.strip("#")), territory=territory, **carries
    )


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


# --- Who is told, where, in which words ---------------------------------------------------------------------------


def test_a_new_mqa_is_posted_in_the_territorys_slack_channel_mentioning_the_rep(world, slack):
    named(world.north_rep, "Dana", "Scully")
    AlertPreference.objects.create(user=world.north_rep, slack_user_id="U024BE7LH")
    north = channel(slack, territory=world.north, name="#sales-north")
    account = world.north_account
    record("handoff.assigned", account_id=account.pk, data={"owner_id": world.north_rep.pk})

    result = alerts_drain()

    assert (result.messages, result.alerts) == (1, 1)
    url = f"https://revops.example.com/accounts/{account.pk}/"
    assert slack.received[0]["path"] == "/services/sales-north"
    body = slack.delivered()[0]
    assert body["text"] == f"New MQA for <@U024BE7LH>: <{url}|North account>"
    assert body["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": body["text"]}}]
    north.refresh_from_db()
    assert north.last_sent_at is not None and north.last_error == ""
    assert Alert.objects.get().status == Alert.Status.SENT


def test_slack_names_a_rep_without_a_member_id_and_escapes_what_slack_would_read_as_markup(world, slack):
    named(world.north_rep, "Dana", "Scully")
    channel(slack, territory=world.north)
    account = AccountFactory(name="Smith & Sons <UK>", territory=world.north, owner=world.north_rep)
    record("handoff.assigned", account_id=account.pk)  # no owner in the data: the account's owner

    alerts_drain()

    url = f"https://revops.example.com/accounts/{account.pk}/"
    assert slack.texts() == [f"New MQA for Dana Scully: <{url}|Smith &amp; Sons &lt;UK&gt;>"]


def test_teams_gets_an_adaptive_card_in_the_attachments_envelope(world, teams):
    named(world.north_rep, "Dana", "Scully")
    channel(teams, territory=world.north, name="Sales North")
    account = world.north_account
    record("surge.started", account_id=account.pk, data={"owner_id": world.north_rep.pk, "topic": "Security"})

    alerts_drain()

    url = f"https://revops.example.com/accounts/{account.pk}/"
    (body,) = teams.delivered()
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"] == [
        {
            "type": "TextBlock",
            "text": f"Signal surge on [North account]({url}), owned by **Dana Scully**.",
            "wrap": True,
        }
    ]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open North account", "url": url}]
    assert teams.received[0]["status"] == 200


def test_a_breach_mentions_the_territorys_managers(world, slack):
    named(world.manager, "Sam", "Boss")
    second = named(UserFactory(username="deputy", role="manager"), "Kim", "Deputy")
    MembershipFactory(user=second, territory=world.north, role="manager")
    AlertPreference.objects.create(user=second, slack_user_id="U0KIM")
    channel(slack, territory=world.north)
    record("handoff.breached", account_id=world.north_account.pk, data={"owner_id": world.north_rep.pk})

    alerts_drain()

    (text,) = slack.texts()
    assert text.startswith("SLA breached on <https://revops.example.com/accounts/")
    assert text.endswith(": <@U0KIM> and Sam Boss, the handoff is waiting for a decision.") or text.endswith(
        ": Sam Boss and <@U0KIM>, the handoff is waiting for a decision."
    )


def test_a_breach_in_a_sub_territory_without_managers_tells_the_managers_above(world, slack):
    named(world.manager, "Sam", "Boss")
    channel(slack, territory=world.north)
    record("handoff.breached", account_id=world.north_east_account.pk)

    alerts_drain()

    assert slack.texts()[0].endswith(": Sam Boss, the handoff is waiting for a decision.")


def test_alerts_go_to_the_territorys_channel_the_one_above_or_the_default(world, slack, teams):
    north = channel(slack, territory=world.north, name="#north")
    default = channel(teams, name="Everyone else")
    south_account = world.south_account
    record("handoff.assigned", account_id=world.north_account.pk)
    record("handoff.assigned", account_id=world.north_east_account.pk, data={"owner_id": world.sub_rep.pk})
    record("handoff.assigned", account_id=south_account.pk)

    alerts_drain(now=timezone.now())
    alerts_drain(now=timezone.now() + LATER)  # North's second alert came in its quiet: the digest

    assert {a.account_name for a in north.alerts.all()} == {"North account", "North-East account"}
    assert [a.account_name for a in default.alerts.all()] == ["South account"]
    assert len(slack.delivered()) == 2 and len(teams.delivered()) == 1
    assert "South account" in teams.texts()[0]
    assert all("South account" not in text for text in slack.texts())


def test_a_channel_carries_only_the_alerts_it_was_chosen_for_the_rest_go_to_the_default(world, slack, teams):
    mqas_only = channel(slack, territory=world.north, carries_breach=False, carries_surge=False)
    default = channel(teams, name="Default")
    record("handoff.assigned", account_id=world.north_account.pk)
    record("surge.started", account_id=world.north_account.pk)

    alerts_drain()

    assert [a.kind for a in mqas_only.alerts.all()] == ["mqa"]
    assert [a.kind for a in default.alerts.all()] == ["surge"]


def test_a_territory_given_in_the_event_wins_over_the_accounts(world, slack):
    south = channel(slack, territory=world.south)
    record("handoff.assigned", account_id=world.north_account.pk, data={"territory_id": world.south.pk})
    alerts_drain()
    assert south.alerts.count() == 1


def test_other_events_and_accounts_gone_tell_nobody(world, slack):
    channel(slack)
    record("tier.changed", account_id=world.north_account.pk)
    record("handoff.assigned", account_id=987654)
    assert alerts_drain().messages == 0
    assert slack.received == []


# --- Opting out ----------------------------------------------------------------------------------------------------


def test_an_opted_out_rep_is_not_posted_about_but_their_other_kinds_are(world, slack):
    AlertPreference.objects.create(user=world.north_rep, surge=False)
    north = channel(slack, territory=world.north)
    record("surge.started", account_id=world.north_account.pk)
    alerts_drain()
    assert slack.received == [] and north.alerts.count() == 0

    record("handoff.assigned", account_id=world.north_account.pk)
    alerts_drain()
    assert len(slack.delivered()) == 1 and "New MQA" in slack.texts()[0]


def test_a_manager_who_opted_out_is_left_out_of_a_breach_the_others_are_told(world, slack):
    named(world.manager, "Sam", "Boss")
    second = named(UserFactory(username="deputy", role="manager"), "Kim", "Deputy")
    MembershipFactory(user=second, territory=world.north, role="manager")
    AlertPreference.objects.create(user=world.manager, breach=False)
    channel(slack, territory=world.north)
    record("handoff.breached", account_id=world.north_account.pk)
    alerts_drain()
    (text,) = slack.texts()
    assert "Kim Deputy" in text and "Sam Boss" not in text

    AlertPreference.objects.create(user=second, breach=False)
    record("handoff.breached", account_id=world.north_account.pk)
    alerts_drain(now=timezone.now() + LATER)
    assert len(slack.delivered()) == 1  # every manager opted out: nothing posted


# --- The cooldown's digest -----------------------------------------------------------------------------------------


def test_a_burst_of_twenty_mqas_posts_one_message_then_one_digest_linking_every_account(world, slack):
    dana = named(world.north_rep, "Dana", "Scully")
    north = channel(slack, territory=world.north)
    accounts = [AccountFactory(name=f"Company {n:02}", territory=world.north, owner=dana) for n in range(20)]
    with transaction.atomic():
        for account in accounts:
            record("handoff.assigned", account_id=account.pk, data={"owner_id": dana.pk})
    start = timezone.now()

    alerts_drain(now=start)
    assert slack.texts() == [
        f"New MQA for Dana Scully: <https://revops.example.com/accounts/{accounts[0].pk}/|Company 00>"
    ]
    assert north.alerts.filter(status=Alert.Status.HELD).count() == 19

    alerts_drain(now=start + dt.timedelta(minutes=4))  # still quiet: nothing more
    assert len(slack.delivered()) == 1

    alerts_drain(now=start + LATER)
    assert len(slack.delivered()) == 2
    digest = slack.delivered()[1]
    assert digest["blocks"][0]["text"]["text"] == "19 alerts in the last 5 minutes:"
    line = digest["blocks"][1]["text"]["text"]
    assert line.startswith("19 new MQAs for Dana Scully: ")
    for account in accounts[1:]:
        assert f"<https://revops.example.com/accounts/{account.pk}/|{account.name}>" in line
    assert north.alerts.filter(status=Alert.Status.SENT, in_digest=True).count() == 19

    alerts_drain(now=start + 2 * LATER)  # nothing left, nothing sent twice
    assert len(slack.delivered()) == 2


def test_a_digest_groups_by_kind_and_person(world, teams):
    named(world.north_rep, "Dana", "Scully")
    named(world.manager, "Sam", "Boss")
    channel(teams, territory=world.north)
    first, acme, globex = (
        AccountFactory(name=n, territory=world.north, owner=world.north_rep) for n in ["Zed", "Acme", "Globex"]
    )
    for account in (first, acme, globex):
        record("handoff.assigned", account_id=account.pk)
    record("handoff.breached", account_id=acme.pk)
    start = timezone.now()
    alerts_drain(now=start)
    alerts_drain(now=start + LATER)
    digest = teams.texts()[1].splitlines()
    assert digest[0] == "3 alerts in the last 5 minutes:"
    assert digest[1].startswith("2 new MQAs for **Dana Scully**: [Acme](https://revops.example.com/accounts/")
    assert "[Globex](" in digest[1]
    assert digest[2].startswith("1 SLA breach for **Sam Boss**: [Acme](")
    assert "actions" not in teams.delivered()[1]["attachments"][0]["content"]


# --- Failures and retries ------------------------------------------------------------------------------------------


def test_slack_429_is_retried_after_the_wait_it_asks_for(world, slack):
    channel(slack, territory=world.north)
    slack.answer_next(429, "rate_limited", {"Retry-After": "2"})
    record("handoff.assigned", account_id=world.north_account.pk)
    sleeps = Sleeps()

    alerts_drain(sleep=sleeps)

    assert sleeps == [2.0]
    assert [r["status"] for r in slack.received] == [429, 200]
    assert Alert.objects.get().status == Alert.Status.SENT


def test_a_long_retry_after_keeps_the_alert_for_a_later_drain(world, slack):
    north = channel(slack, territory=world.north)
    slack.answer_next(429, "rate_limited", {"Retry-After": "120"})
    record("handoff.assigned", account_id=world.north_account.pk)
    start = timezone.now()

    alerts_drain(now=start, sleep=Sleeps())

    north.refresh_from_db()
    assert north.failing and "429" in north.last_error
    assert north.quiet_until == start + dt.timedelta(seconds=120)
    assert Alert.objects.get().status == Alert.Status.HELD
    alerts_drain(now=start + dt.timedelta(seconds=60))
    assert len(slack.received) == 1  # waits as asked
    alerts_drain(now=start + dt.timedelta(seconds=121))
    assert len(slack.delivered()) == 1 and Alert.objects.get().status == Alert.Status.SENT
    north.refresh_from_db()
    assert not north.failing


def test_server_errors_are_retried_a_bounded_number_of_times(world, slack, settings):
    settings.ALERTS_RETRIES = 2
    north = channel(slack, territory=world.north)
    for _ in range(5):
        slack.answer_next(503, "")
    record("handoff.assigned", account_id=world.north_account.pk)
    sleeps = Sleeps()
    alerts_drain(sleep=sleeps)
    assert len(slack.received) == 3 and sleeps == [1.0, 2.0]  # three tries, backing off
    north.refresh_from_db()
    assert north.last_error == "Slack answered 503."
    assert Alert.objects.get().status == Alert.Status.HELD


def test_a_removed_slack_webhook_fails_the_alert_and_the_channel_page_says_why(world, slack, client):
    north = channel(slack, territory=world.north, name="#north")
    slack.removed.add("/services/north")
    record("handoff.assigned", account_id=world.north_account.pk)

    alerts_drain()

    alert = Alert.objects.get()
    assert alert.status == Alert.Status.FAILED
    assert alert.error == "Slack answered 404 “no_service”: the webhook was removed or switched off in Slack."
    client.force_login(world.admin)
    page = client.get(reverse("integrations:alert-channel-detail", args=[north.pk])).content.decode()
    assert "the webhook was removed or switched off in Slack" in page
    assert 'Last sent</dt><dd class="col-sm-9" id="last-sent">never' in page
    listing = client.get(reverse("integrations:alert-channel-list")).content.decode()
    assert "text-danger" in listing and "no_service" in listing


def test_retry_after_reads_seconds_and_dates():
    assert retry_after_seconds("30", 1.0) == 30.0
    assert retry_after_seconds(None, 4.0) == 4.0
    assert retry_after_seconds("soon", 4.0) == 4.0
    later = timezone.now() + dt.timedelta(seconds=90)
    assert 80 <= retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), 1.0) <= 91


# --- Reading the events exactly once -------------------------------------------------------------------------------


def test_each_event_is_posted_once_however_often_the_drain_runs(world, slack):
    channel(slack, territory=world.north)
    record("handoff.assigned", account_id=world.north_account.pk)
    alerts_drain()
    alerts_drain(now=timezone.now() + LATER)
    record("handoff.assigned", account_id=world.north_east_account.pk)
    alerts_drain(now=timezone.now() + 2 * LATER)
    alerts_drain(now=timezone.now() + 3 * LATER)
    assert len(slack.delivered()) == 2
    assert Alert.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_events_are_posted_once_their_transaction_commits_and_never_when_it_rolls_back(world, slack):
    channel(slack, territory=world.north)
    with pytest.raises(RuntimeError), transaction.atomic():
        record("handoff.assigned", account_id=world.north_east_account.pk)
        raise RuntimeError("the change failed")
    assert slack.received == []
    with transaction.atomic():
        record("handoff.assigned", account_id=world.north_account.pk)
        assert slack.received == []  # not before the commit
    # Woken after the commit (tasks run eagerly here): posted at once.
    assert len(slack.delivered()) == 1 and "North account" in slack.texts()[0]
    sequence()
    alerts_drain(now=timezone.now() + LATER)
    assert len(slack.delivered()) == 1


# --- Addresses -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://hooks.slack.com/services/T0/B0/x", None),
        ("http://hooks.slack.com/services/T0/B0/x", "must start with https://"),
        ("ftp://hooks.slack.com/x", "must start with https://"),
        ("https://127.0.0.1/hook", "inside this network"),
        ("https://10.1.2.3/hook", "inside this network"),
        ("https://169.254.169.254/latest/meta-data", "inside this network"),
        ("https://[::1]/hook", "inside this network"),
        ("https://localhost/hook", "inside this network"),
        ("https://user:pw@hooks.slack.com/x", "user name or password"),
    ],
)
def test_webhook_addresses_must_be_https_and_public(url, refused, settings):
    settings.ALERTS_ALLOW_HTTP = False
    settings.ALERTS_ALLOW_PRIVATE_URLS = False
    if refused is None:
        check_webhook_url(url, resolve=False)
    else:
        with pytest.raises(AddressRefused, match=refused):
            check_webhook_url(url, resolve=False)


def test_a_name_resolving_inside_the_network_is_refused(settings, monkeypatch):
    settings.ALERTS_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr("socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("192.168.1.5", 443))])
    with pytest.raises(AddressRefused, match="inside this network"):
        check_webhook_url("https://hooks.example.com/x")


def test_a_private_address_is_refused_at_posting_time_too(world, slack, settings):
    north = channel(slack, territory=world.north)
    settings.ALERTS_ALLOW_PRIVATE_URLS = False
    record("handoff.assigned", account_id=world.north_account.pk)
    alerts_drain()
    assert slack.received == []
    north.refresh_from_db()
    assert "inside this network" in north.last_error


def test_a_transaction_writing_many_events_wakes_the_readers_once(world, django_capture_on_commit_callbacks):
    from core.events import record_many
    from core.models import Event

    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(3):
            record("handoff.assigned", account_id=world.north_account.pk)
        record_many([Event(kind="surge.started", account_id=world.north_account.pk) for _ in range(5)])
    assert len(callbacks) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_drains_running_at_once_while_events_commit_post_each_event_once(world, slack, settings):
    """PostgreSQL: a writer commits events one by one (each commit wakes a drain) while three drains loop; every
    account is named in exactly one message."""
    import threading

    from django.db import connection

    from ..conftest import require_postgres

    require_postgres()
    settings.ALERTS_COOLDOWN_SECONDS = 0  # every drain may post: the most chances to post twice
    channel(slack, territory=world.north)
    accounts = [AccountFactory(name=f"C{n}", territory=world.north, owner=world.north_rep) for n in range(40)]
    done = threading.Event()
    failures = []

    def writer():
        try:
            for account in accounts:
                with transaction.atomic():
                    record("handoff.assigned", account_id=account.pk)
        except Exception as error:  # noqa: BLE001  # reported by the assertion below
            failures.append(error)
        finally:
            done.set()
            connection.close()

    def drainer():
        try:
            while not done.is_set():
                alerts_drain()
        except Exception as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=drainer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    for minutes in (1, 2):
        alerts_drain(now=timezone.now() + dt.timedelta(minutes=minutes))
    texts = slack.texts()
    assert Alert.objects.filter(status=Alert.Status.SENT).count() == 40
    for account in accounts:
        assert sum(text.count(f"|{account.name}>") for text in texts) == 1, account.name


def test_the_drain_reads_past_long_runs_of_other_events(world, slack, monkeypatch):
    """Each read looks at a window of the log: a run of other events longer than it does not stop the drain."""
    from integrations.alerts import services

    monkeypatch.setattr(services, "SCAN_WINDOW", 3)
    monkeypatch.setattr(services, "READ_BATCH", 2)
    channel(slack, territory=world.north)
    for _ in range(10):
        record("tier.changed", account_id=world.north_account.pk)
    for account in (world.north_account, world.north_east_account, world.owned_by_rep):
        record("handoff.assigned", account_id=account.pk)
    alerts_drain()
    assert Alert.objects.count() == 3
    assert services.alerts_from_events() == (0, False)


def test_a_digest_holds_a_bounded_number_of_alerts_the_rest_wait_for_the_next(world, slack, monkeypatch):
    from integrations.alerts import services

    monkeypatch.setattr(services, "DIGEST_MAX", 3)
    channel(slack, territory=world.north)
    accounts = [AccountFactory(name=f"Co {n}", territory=world.north, owner=world.north_rep) for n in range(6)]
    for account in accounts:
        record("handoff.assigned", account_id=account.pk)
    start = timezone.now()
    alerts_drain(now=start)  # the first, at once
    alerts_drain(now=start + LATER)  # a digest of three
    alerts_drain(now=start + 2 * LATER)  # the last two
    assert [len(body["blocks"]) for body in slack.delivered()] == [1, 2, 2]
    assert slack.texts()[1].startswith("3 alerts") and slack.texts()[2].startswith("2 alerts")
    assert not Alert.objects.filter(status=Alert.Status.HELD).exists()
