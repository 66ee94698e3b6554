"""Quotas per territory and period: RevOps admins keep them, with clear messages; managers only see theirs."""

import datetime as dt

import pytest
from django.urls import reverse

from territories.models import Quota


def post(client, url, **data):
    return client.post(url, {"territory": "", "period_start": "", "period_end": "", "amount": "", **data})


def test_admin_adds_edits_and_deletes_a_quota(client, world):
    client.force_login(world.admin)
    assert "No quota yet" in client.get(reverse("quota-list")).content.decode()
    response = post(
        client,
        reverse("quota-new"),
        territory=world.north.pk,
        period_start="2026-01-01",
        period_end="2026-03-31",
        amount="250000",
    )
    assert response.status_code == 302
    quota = Quota.objects.get()
    assert (quota.territory, quota.amount, quota.updated_by) == (world.north, 250000, world.admin)
    response = post(
        client,
        reverse("quota-edit", args=[quota.pk]),
        territory=world.north.pk,
        period_start="2026-01-01",
        period_end="2026-03-31",
        amount="300000",
    )
    assert response.status_code == 302
    quota.refresh_from_db()
    assert quota.amount == 300000
    confirm = client.get(reverse("quota-delete", args=[quota.pk]))
    assert confirm.status_code == 200 and "Delete this quota?" in confirm.content.decode()
    assert Quota.objects.exists()  # a GET only asks
    assert client.post(reverse("quota-delete", args=[quota.pk])).status_code == 302
    assert not Quota.objects.exists()


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"period_start": "2026-04-01", "period_end": "2026-03-31", "amount": "10"},
            "period_end",
            "must end on or after",
        ),
        ({"period_start": "2026-01-01", "period_end": "2026-03-31", "amount": "0"}, "amount", "above 0"),
        ({"period_start": "2026-01-01", "period_end": "2026-03-31", "amount": "-5"}, "amount", "above 0"),
        ({"period_start": "2026-01-01", "period_end": "2026-03-31", "amount": "lots"}, "amount", "Enter a number"),
        ({"period_start": "someday", "period_end": "2026-03-31", "amount": "10"}, "period_start", "valid date"),
        (
            {"period_start": "2026-01-01", "period_end": "2026-03-31", "amount": "5"},
            "period_start",
            "already has a quota",
        ),
    ],
)
def test_bad_quotas_are_refused_with_a_message(client, world, data, field, message):
    Quota.objects.create(
        territory=world.north, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31), amount=1
    )
    client.force_login(world.admin)
    response = post(client, reverse("quota-new"), territory=world.north.pk, **data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Quota.objects.count() == 1


@pytest.mark.parametrize("user", ["rep", "manager", "outsider"])
def test_only_admins_keep_quotas(client, world, user):
    """Managers see their territories' quotas and plan them (test_quota_suggestions.py), but add, edit and delete
    none here."""
    quota = Quota.objects.create(
        territory=world.north, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31), amount=1
    )
    client.force_login(getattr(world, user))
    assert client.get(reverse("quota-list")).status_code == (200 if user == "manager" else 403)
    for url in (reverse("quota-new"), reverse("quota-edit", args=[quota.pk])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("quota-delete", args=[quota.pk])).status_code == 403
    assert Quota.objects.filter(pk=quota.pk).exists()
