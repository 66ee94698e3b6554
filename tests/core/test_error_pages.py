"""The site's own 403, 404 and 500 pages, as served with DEBUG off (production, and the demo since it runs so): styled
with the site's files only, so the strict Content-Security-Policy refuses nothing on them, and the 500 page made
without the request (its context processors, the database) that may be what failed."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client, override_settings
from django.urls import include, path

from core.csp import CONTENT_SECURITY_POLICY


def broken(request):
    raise RuntimeError("the page could not be made")


def refused(request):
    raise PermissionDenied


urlpatterns = [
    path("broken/", broken),
    path("refused/", refused),
    path("", include("config.urls")),
]
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"


def assert_styled_and_strict(response, heading: str) -> str:
    body = response.content.decode()
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "RevOps scoring" in body  # the brand, linking home
    assert heading in body
    assert '<link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css">' in body
    assert '<link rel="stylesheet" href="/static/css/app.css">' in body
    assert 'rel="icon" href="/static/img/favicon.svg"' in body
    # Nothing the policy refuses: no inline style or script, no handler attributes, no other origin.
    assert not re.search(r"<style|style=|<script(?![^>]*\bsrc=)|\son[a-z]+=", body)
    assert "http://" not in body and "https://" not in body
    return body


@pytest.mark.django_db
def test_a_missing_page_is_the_sites_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "error_base.html"]
    body = assert_styled_and_strict(response, "Page not found")
    assert '<code class="error-path">/no-such-page/</code>' in body
    assert 'href="/login/"' in body  # signed out: the way in


@pytest.mark.django_db
def test_the_404_of_a_signed_in_user_names_them(client, world):
    client.force_login(world.manager)
    body = assert_styled_and_strict(client.get("/accounts/999999/"), "Page not found")
    assert (world.manager.get_full_name() or world.manager.username) in body
    assert 'href="/accounts/"' in body


@pytest.mark.django_db
def test_the_api_keeps_answering_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_the_sites_500():
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == 500
    body = assert_styled_and_strict(response, "Something went wrong on our side")
    assert "Error 500" in body


def test_the_500_page_needs_no_request_nor_database():
    """Rendered as Django renders it for a server error: no request, no context processors, no query."""
    body = render_to_string("500.html")
    assert "Something went wrong on our side" in body and "RevOps scoring" in body


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_refusal_is_the_sites_403(client, world):
    client.force_login(world.rep)
    response = client.get("/refused/")
    assert response.status_code == 403
    assert_styled_and_strict(response, "Not allowed")


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_the_sites_page(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.rep)
    response = client.post("/logout/")
    assert response.status_code == 403
    body = assert_styled_and_strict(response, "This form could not be sent")
    assert "Nothing was changed." in body


@pytest.mark.django_db
def test_the_favicon_answers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/img/favicon.svg"
