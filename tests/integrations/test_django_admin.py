"""The Django admin pages of the integrations read what the integrations pages write: what those pages check (a
webhook's or a chat channel's address, a secret made and shown once, the first push confirmed after its changes were
shown) cannot be gone around there."""

from integrations.models import AlertChannel, CrmConnection, WebhookEndpoint


def test_webhook_endpoints_and_chat_channels_are_read_only_in_the_django_admin(client, world):
    endpoint = WebhookEndpoint.objects.create(
        name="Warehouse", url="https://hooks.example.com/in", kinds=["mqa.raised"]
    )
    channel = AlertChannel.objects.create(
        kind="slack", name="#sales", webhook_url="https://hooks.slack.com/services/T0/B0/secretpart"
    )
    client.force_login(world.admin)
    assert client.get("/admin/integrations/webhookendpoint/add/").status_code == 403
    change = f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/"
    client.post(change, {"name": "Warehouse", "url": "http://127.0.0.1:8000/", "kinds": '["mqa.raised"]'})
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/in"  # not sent to this machine by the admin's back door
    page = client.get(f"/admin/integrations/alertchannel/{channel.pk}/change/")
    assert page.status_code == 200 and "secretpart" not in page.content.decode()  # the webhook is a secret
    assert client.post(f"/admin/integrations/alertchannel/{channel.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AlertChannel.objects.filter(pk=channel.pk).exists()


def test_a_crm_connections_first_push_is_not_confirmed_from_the_django_admin(client, world):
    connection = CrmConnection.objects.create(vendor="hubspot", name="HubSpot", settings={"base_url": "https://a.b"})
    client.force_login(world.admin)
    client.post(
        f"/admin/integrations/crmconnection/{connection.pk}/change/",
        {"name": "HubSpot", "enabled": "on", "push_enabled": "on", "push_confirmed": "on", "settings": "{}"},
    )
    connection.refresh_from_db()
    assert connection.push_enabled  # switched from here, as the page's docstring says
    assert not connection.push_confirmed and connection.settings == {"base_url": "https://a.b"}


def test_a_slack_member_id_set_in_the_django_admin_follows_the_pages_rule(client, world):
    from integrations.models import AlertPreference

    client.force_login(world.admin)
    add = "/admin/integrations/alertpreference/add/"
    form = {"user": world.rep.pk, "mqa": "on", "breach": "on", "surge": "on"}
    refused = client.post(add, {**form, "slack_user_id": "not an id"})
    assert refused.status_code == 200 and "A Slack member ID starts with U or W" in refused.content.decode()
    assert not AlertPreference.objects.exists()
    client.post(add, {**form, "slack_user_id": " u024be7lh "})
    assert AlertPreference.objects.get(user=world.rep).slack_user_id == "U024BE7LH"  # normalised as the page does


def test_a_crm_connections_name_is_not_changed_from_the_django_admin(client, world):
    CrmConnection.objects.create(vendor="hubspot", name="HubSpot", settings={})
    other = CrmConnection.objects.create(vendor="hubspot", name="Second", settings={})
    client.force_login(world.admin)
    client.post(f"/admin/integrations/crmconnection/{other.pk}/change/", {"name": "hubspot", "enabled": "on"})
    other.refresh_from_db()
    assert other.name == "Second"  # the pages keep names unique whatever their case
