"""The chat alert pages: admins add, edit, test and delete channels; everyone sets their own chat alerts."""

import pytest
from django.urls import reverse

from integrations.models import AlertChannel, AlertPreference

pytestmark = pytest.mark.usefixtures("local_webhooks")


def form(**overrides):
    data = {
        "kind": "slack",
        "name": "#sales-north",
        "webhook_url": "https://hooks.slack.com/services/T0/B0/secret",
        "territory": "",
        "carries_mqa": "on",
        "carries_breach": "on",
        "carries_surge": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_integrations_page_links_to_the_chat_alerts(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("integrations:index")).content.decode()
    assert "Chat alerts" in page
    assert reverse("integrations:alert-channel-list") in page and reverse("integrations:my-alerts") in page


def test_an_admin_adds_a_territory_channel_and_sees_it_listed(client, world, slack):
    client.force_login(world.admin)
    empty = client.get(reverse("integrations:alert-channel-list")).content.decode()
    assert 'id="no-channels"' in empty

    answer = client.post(
        reverse("integrations:alert-channel-add"),
        form(webhook_url=slack.hook("north"), territory=str(world.north.pk), carries_surge=None),
    )

    channel = AlertChannel.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "integrations:alert-channel-detail", args=[channel.pk]
    )
    assert (channel.territory, channel.carries_mqa, channel.carries_breach, channel.carries_surge) == (
        world.north,
        True,
        True,
        False,
    )
    listing = client.get(reverse("integrations:alert-channel-list")).content.decode()
    assert "#sales-north" in listing and "North" in listing
    assert "New MQA for the rep, SLA breach for the manager" in listing
    assert "/services/north" not in listing  # the secret part of the address is not shown


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.slack.com/services/x", "The address must start with https://."),
        ("https://10.0.0.8/services/x", "The address points inside this network"),
        ("not a url", "Enter a valid URL."),
    ],
)
def test_a_refused_address_is_said_and_what_was_typed_is_kept(client, world, settings, url, message):
    settings.ALERTS_ALLOW_HTTP = False
    settings.ALERTS_ALLOW_PRIVATE_URLS = False
    client.force_login(world.admin)
    answer = client.post(reverse("integrations:alert-channel-add"), form(webhook_url=url, name="#typed-name"))
    page = answer.content.decode()
    assert answer.status_code == 200 and message in page
    assert 'value="#typed-name"' in page and f'value="{url}"' in page
    assert not AlertChannel.objects.exists()


def test_a_channel_must_carry_something(client, world):
    client.force_login(world.admin)
    answer = client.post(
        reverse("integrations:alert-channel-add"), form(carries_mqa=None, carries_breach=None, carries_surge=None)
    )
    assert "Choose at least one alert for the channel to carry." in answer.content.decode()
    assert not AlertChannel.objects.exists()


def test_send_test_message_reports_what_the_chat_tool_answered(client, world, slack, teams):
    client.force_login(world.admin)
    good = AlertChannel.objects.create(kind="slack", name="#good", webhook_url=slack.hook("good"))
    page = client.post(reverse("integrations:alert-channel-test", args=[good.pk]), follow=True).content.decode()
    assert "Test message sent to #good" in page
    assert slack.texts() == ["Test message from RevOps scoring: alerts for #good will be posted here."]
    good.refresh_from_db()
    assert good.last_sent_at is not None

    slack.removed.add("/services/gone")
    gone = AlertChannel.objects.create(kind="slack", name="#gone", webhook_url=slack.hook("gone"))
    page = client.post(reverse("integrations:alert-channel-test", args=[gone.pk]), follow=True).content.decode()
    assert "The test message was not delivered. Slack answered 404 “no_service”" in page
    assert 'id="last-error"' in page and "text-danger" in page

    card = AlertChannel.objects.create(kind="teams", name="Sales", webhook_url=teams.hook("sales"))
    client.post(reverse("integrations:alert-channel-test", args=[card.pk]))
    assert teams.delivered()[0]["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_an_admin_edits_then_deletes_a_channel_after_confirming(client, world):
    client.force_login(world.admin)
    channel = AlertChannel.objects.create(kind="slack", name="#old", webhook_url="https://hooks.slack.com/services/a")
    edit = client.get(reverse("integrations:alert-channel-edit", args=[channel.pk])).content.decode()
    assert 'value="#old"' in edit
    client.post(reverse("integrations:alert-channel-edit", args=[channel.pk]), form(name="#new", kind="teams"))
    channel.refresh_from_db()
    assert (channel.name, channel.kind) == ("#new", "teams")

    confirm = client.get(reverse("integrations:alert-channel-delete", args=[channel.pk])).content.decode()
    assert "Delete #new?" in confirm and AlertChannel.objects.exists()
    answer = client.post(reverse("integrations:alert-channel-delete", args=[channel.pk]), follow=True)
    assert "Deleted #new" in answer.content.decode()
    assert not AlertChannel.objects.exists()


def test_the_channel_list_pages(client, world):
    client.force_login(world.admin)
    AlertChannel.objects.bulk_create(
        AlertChannel(kind="slack", name=f"#c{n:02}", webhook_url="https://hooks.slack.com/services/x")
        for n in range(30)
    )
    first = client.get(reverse("integrations:alert-channel-list")).content.decode()
    assert "Page 1 of 2" in first and "#c00" in first and "#c29" not in first
    second = client.get(reverse("integrations:alert-channel-list") + "?page=2").content.decode()
    assert "#c29" in second


def test_a_rep_opts_out_of_surges_and_keeps_the_rest(client, world):
    client.force_login(world.north_rep)
    page = client.get(reverse("integrations:my-alerts")).content.decode()
    assert page.count("checked") == 3  # everything on until they say otherwise
    answer = client.post(reverse("integrations:my-alerts"), {"mqa": "on", "breach": "on", "slack_user_id": "u024be7lh"})
    assert answer.status_code == 302
    preference = AlertPreference.objects.get(user=world.north_rep)
    assert (preference.mqa, preference.breach, preference.surge, preference.slack_user_id) == (
        True,
        True,
        False,
        "U024BE7LH",
    )
    page = client.get(reverse("integrations:my-alerts")).content.decode()
    assert 'name="surge" id="id_surge">' in page and 'value="U024BE7LH"' in page


def test_a_wrong_slack_member_id_is_said_and_kept(client, world):
    client.force_login(world.manager)
    answer = client.post(reverse("integrations:my-alerts"), {"breach": "on", "slack_user_id": "dana@example.com"})
    page = answer.content.decode()
    assert "A Slack member ID starts with U or W" in page and 'value="dana@example.com"' in page
    assert 'name="breach" id="id_breach" checked' in page and 'name="mqa" id="id_mqa">' in page
    assert not AlertPreference.objects.exists()


def test_the_user_menu_links_to_chat_alerts(client, world):
    client.force_login(world.north_rep)
    assert reverse("integrations:my-alerts") in client.get("/").content.decode()


@pytest.mark.parametrize("user", ["north_rep", "manager"])
def test_reps_and_managers_cannot_add_or_change_channels(client, world, user):
    channel = AlertChannel.objects.create(kind="slack", name="#north", webhook_url="https://hooks.slack.com/services/a")
    client.force_login(getattr(world, user))
    assert client.get(reverse("integrations:alert-channel-list")).status_code == 403
    assert client.post(reverse("integrations:alert-channel-add"), form(name="#mine")).status_code == 403
    assert (
        client.post(reverse("integrations:alert-channel-edit", args=[channel.pk]), form(name="#x")).status_code == 403
    )
    assert client.post(reverse("integrations:alert-channel-delete", args=[channel.pk])).status_code == 403
    assert list(AlertChannel.objects.values_list("name", flat=True)) == ["#north"]
    assert client.get(reverse("integrations:my-alerts")).status_code == 200  # their own page only
