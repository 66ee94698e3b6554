"""The change feed: `GET /api/v1/events/`, the domain events (core/events.py) in commit order, a page at a time.

A poller keeps the `cursor` of its last page and asks again with it: it gets every event committed since, each once,
in the order of `seq` (the place `core.events.sequence` gives each event once it is seen committed, so an event whose
transaction commits late is placed after those already read, never before). The cursor is opaque (a version and a
`seq`); `after` gives a `seq` plainly.

Scope: an event about an account is shown to whoever may see the account now (the account list's rule: admins all,
managers their territories' accounts, reps the accounts they own or whose territory they belong to); an event about
no account (model.published) to every role, as every role may read the scoring models. Events of an account that no
longer exists (merged away, deleted) are shown to admins only.
"""

from __future__ import annotations

import base64
import binascii
import json

from django import forms
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import account_list
from core.apis import MAX_ID, UtcIsoDateTimeField
from core.events import Kind, sequence
from core.models import Event
from core.roles import is_admin

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CURSOR_VERSION = 1


def cursor_encode(seq: int) -> str:
    raw = json.dumps({"v": CURSOR_VERSION, "seq": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(value: str) -> int:
    """The `seq` a cursor stands for; ValueError for anything this feed did not hand out."""
    try:
        padded = value + "=" * (-len(value) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise ValueError("not a cursor") from None
    seq = data.get("seq") if isinstance(data, dict) else None
    if data.get("v") != CURSOR_VERSION or isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_ID:
        raise ValueError("not a cursor")
    return seq


class FeedQuery(forms.Form):
    """The feed's query string, validated: a bad value is a 400 naming the parameter, never a 500."""

    cursor = forms.CharField(required=False, max_length=200)
    after = forms.IntegerField(required=False, min_value=0, max_value=MAX_ID)
    since = UtcIsoDateTimeField(required=False)
    account = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    kind = forms.MultipleChoiceField(required=False, choices=Kind.choices)
    limit = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    def clean_cursor(self):
        value = self.cleaned_data.get("cursor") or ""
        if not value:
            return None
        try:
            return cursor_decode(value)
        except ValueError:
            raise forms.ValidationError("Not a cursor this feed gave: use the `cursor` of a page as it is.") from None

    def clean(self):
        data = super().clean()
        if data.get("cursor") is not None and data.get("after") is not None:
            raise forms.ValidationError("Give a cursor or `after`, not both.")
        return data


def _kinds(request) -> list[str]:
    """`kind` given once, several times, or comma-separated."""
    return [k.strip() for value in request.query_params.getlist("kind") for k in value.split(",") if k.strip()]


def event_list(*, user):
    """The events `user` may see (see the module's docstring), sequenced ones only."""
    events = Event.objects.filter(seq__isnull=False)
    if is_admin(user):
        return events
    return events.filter(Q(account_id__isnull=True) | Q(account_id__in=account_list(user=user).values("pk")))


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The event's id: stable, never reused.")
    seq = serializers.IntegerField(help_text="Its place in commit order: the feed's order.")
    kind = serializers.ChoiceField(choices=Kind.choices)
    occurred_at = serializers.DateTimeField(help_text="When the change happened (ISO 8601, UTC).")
    account = serializers.IntegerField(
        source="account_id", allow_null=True, help_text="The account it happened to; null for model.published."
    )
    actor = serializers.IntegerField(
        source="actor_id", allow_null=True, help_text="The user who did it; null for the product's own work."
    )
    data = serializers.DictField(
        help_text="What the change was, so no second call is needed: for an account's events account_name, "
        "account_domain, owner_id, owner_name, and by kind: tier.changed from_tier, to_tier (and _label), reason, "
        "fit, signal, unified, model_version, tier_change_id; surge.started signal, surge_until, tier; mqa.raised "
        "mqa_id, tier, fit, signal, coverage, unified, qualified_at; handoff.* handoff_id, mqa_id, tier, status, "
        "handoff_owner_id/_name, assigned_at, accept_due_at, decided_at, decided_by_id/_name, reason, note, "
        "breached_at, breached_by_id/_name, breach_action, why; owner.changed from_owner_id/_name, to_owner_id/_name, "
        "territory_id/_name, reason; model.published model_id, model_version, model_name, published_at, "
        "published_by_id/_name, restored. Times are ISO 8601 UTC."
    )


FEED_PAGE = inline_serializer(
    "EventPage",
    {
        "next": serializers.URLField(
            allow_null=True, help_text="The next page when more events are there now; null when this page ends them."
        ),
        "cursor": serializers.CharField(
            help_text="Where to go on from: pass it as `cursor` next time (also when this page was empty)."
        ),
        "results": EventSerializer(many=True),
    },
)
FEED_REFUSED = inline_serializer(
    "EventQueryRefused", {"detail": serializers.CharField(), "errors": serializers.DictField()}
)


class EventFeedView(APIView):
    """The change feed: domain events in commit order, scoped like their accounts."""

    @extend_schema(
        operation_id="events_list",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The `cursor` of the last page read."),
            OpenApiParameter("after", OpenApiTypes.INT, description="Events after this `seq` (instead of a cursor)."),
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Only events that occurred at or after this ISO 8601 time."
            ),
            OpenApiParameter("account", OpenApiTypes.INT, description="Only this account's events."),
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                many=True,
                enum=Kind.values,
                description="Only these kinds: repeat it, or separate kinds by commas.",
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"Events per page: {PAGE_SIZE} unless given, {MAX_PAGE_SIZE} at most.",
            ),
        ],
        responses={200: FEED_PAGE, 400: FEED_REFUSED},
    )
    def get(self, request):
        form = FeedQuery({**request.query_params.dict(), "kind": _kinds(request)})
        if not form.is_valid():
            errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
            return Response({"detail": "The query is not valid: nothing was read.", "errors": errors}, status=400)
        query = form.cleaned_data
        sequence()  # place what committed since the last read (nothing to do most of the time)
        position = query["cursor"] if query["cursor"] is not None else (query["after"] or 0)
        limit = query["limit"] or PAGE_SIZE
        events = event_list(user=request.user).filter(seq__gt=position)
        if query["kind"]:
            events = events.filter(kind__in=query["kind"])
        if query["account"] is not None:
            events = events.filter(account_id=query["account"])
        if query["since"] is not None:
            events = events.filter(occurred_at__gte=query["since"])
        page = list(events.order_by("seq")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        last = page[-1].seq if page else position
        cursor = cursor_encode(last)
        next_url = None
        if more:
            params = request.query_params.copy()
            params.pop("after", None)
            params["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"next": next_url, "cursor": cursor, "results": EventSerializer(page, many=True).data})
