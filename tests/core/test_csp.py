"""Every response carries our Content-Security-Policy, and no template or page relies on what it forbids.

Routes come from the URL configuration through the permission matrix, so a new page is checked as soon as it is
added. The browser side (the behaviours moved to static/js/app.js still work and Chromium reports no violation)
is tests/browser/test_csp.py.
"""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from core.csp import CONTENT_SECURITY_POLICY

from ..factories import AccountFactory, HandoffFactory
from ..test_permission_matrix import objects, routes, url_for  # noqa: F401 (objects is a fixture)

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

# What the policy refuses, as it appears in HTML.
FORBIDDEN = {
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc\s*=)[^>]*>", re.IGNORECASE),
    "<style> block": re.compile(r"<style[\s>]", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def inline_code(html: str) -> list[str]:
    return [f"{what}: {match.group(0)[:120]!r}" for what, rule in FORBIDDEN.items() for match in rule.finditer(html)]


def test_the_policy_is_the_agreed_one():
    assert CONTENT_SECURITY_POLICY == POLICY
    assert "core.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE


@pytest.mark.parametrize("name", routes())
def test_every_route_answers_with_the_policy(name, client, world, objects):  # noqa: F811
    client.force_login(world.admin)
    response = client.get(url_for(name, objects))
    assert response["Content-Security-Policy"] == POLICY, response.status_code


def test_refusals_and_errors_carry_the_policy_too(client, world):
    assert client.get(reverse("account-list"))["Content-Security-Policy"] == POLICY  # the redirect to log in
    client.force_login(world.north_rep)
    for url in (reverse("account-detail", args=[world.south_account.pk]), "/no/such/page/", reverse("audit-trail")):
        response = client.get(url)
        assert response.status_code in {403, 404}, url
        assert response["Content-Security-Policy"] == POLICY, url


def test_no_template_has_inline_script_or_style():
    found = {}
    for template in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        problems = inline_code(template.read_text(encoding="utf-8"))
        if problems:
            found[str(template.relative_to(settings.BASE_DIR))] = problems
    assert not found, found


@pytest.fixture
def busy_world(world):
    """Enough data that the pages show their optional parts: the select-all box, the confirm form, load bars."""
    world.north.criteria = [{"attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save(update_fields=["criteria"])
    world.north_account.owner = None
    world.north_account.save(update_fields=["owner"])
    AccountFactory(name="Second unassigned", territory=world.north)
    world.north_rep.memberships.update(max_accounts=4)
    HandoffFactory(account=AccountFactory(name="Queued", territory=world.north, owner=world.north_rep))
    return world


def test_key_pages_render_no_inline_script_or_style(client, busy_world, django_capture_on_commit_callbacks):
    world = busy_world
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("assignment-preview"))  # a prepared preview, with its confirmation
    pages = {
        "account list": reverse("account-list"),
        "account detail": reverse("account-detail", args=[world.north_account.pk]),
        "territory detail": reverse("territory-detail", args=[world.north.pk]),
        "assignment preview": reverse("assignment-preview"),
        "tiers": reverse("tier-list"),
        "jobs": reverse("job-list"),
        "API docs": reverse("api-docs"),
    }
    rendered = {name: client.get(url).content.decode() for name, url in pages.items()}
    client.force_login(world.north_rep)
    rendered["queue"] = client.get(reverse("handoff-queue")).content.decode()
    # The parts that used inline code are really on the pages checked.
    assert 'data-select-all="input[name=account_ids]"' in rendered["territory detail"]
    assert 'data-progress-width="' in rendered["territory detail"]
    assert 'data-confirm="Move ' in rendered["assignment preview"]
    assert all("/static/js/app.js" in html for name, html in rendered.items() if name != "API docs")
    problems = {name: inline_code(html) for name, html in rendered.items() if inline_code(html)}
    assert not problems, problems


def test_api_docs_load_their_init_script_from_a_url(client, world):
    client.force_login(world.north_rep)
    html = client.get(reverse("api-docs")).content.decode()
    assert '<script src="/api/docs/?script="></script>' in html
    assert "/static/css/swagger_ui.css" in html
    script = client.get(reverse("api-docs"), {"script": ""})
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode() and "/api/schema/" in script.content.decode()
