"""The integrations' API, under /api/v1/."""

from django.urls import path

from .feed import EventFeedView

urlpatterns: list = [
    path("events/", EventFeedView.as_view(), name="event-list"),
]
