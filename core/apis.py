"""API plumbing shared by every app: JSON errors and the jobs/users endpoints."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .models import Job
from .selectors import job_list


def exception_handler(exc, context):
    """Every error is JSON with a `detail` (and field messages for validation errors), never an HTML 500 page."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = "Token"
    if isinstance(response.data, list):  # a bare list of messages (a filter refusing its input): an object too
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response


# The largest id a (big) integer primary key can hold; bigger numbers would crash the database driver.
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """Filter by a related object's id, compared as a plain number.

    Not a choice among existing objects: that would answer 400 for an id that does not exist and 200 for
    one outside the user's scope, telling them which ids exist. Here both simply match nothing.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC: any offset Python reads (up to +-23:59) is converted before the database sees it
    (PostgreSQL refuses offsets beyond +-15:59), and a moment that falls outside the calendar once converted is a
    clear error, not a crash."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("This moment is out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


UPDATED_SINCE_HELP = "Only what changed at or after this moment (ISO 8601, any offset): a poller's catch-up."


def updated_since_filter(field_name: str = "updated_at", help_text: str = UPDATED_SINCE_HELP) -> UtcDateTimeFilter:
    """The `updated_since` filter of a list: rows whose `field_name` is at or after the moment given."""
    return UtcDateTimeFilter(field_name=field_name, lookup_expr="gte", help_text=help_text)


CONFLICT = OpenApiResponse(
    response=inline_serializer("Conflict", {"detail": serializers.CharField()}),
    description="The object's state does not allow this (e.g. it is not a draft, or others still use it).",
)


def conflict(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "done",
            "total",
            "percent",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "result",
        ]
        read_only_fields = fields


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Status and progress of background jobs: admins see all, others the jobs they started."""

    serializer_class = JobSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return job_list(user=self.request.user)
