"""A web process warms up before it serves: gunicorn loads the application once in its master process and warms it
there (core/warm.py), so every worker forked from it, at start or when one replaces another after max_requests, has
the views imported and the templates compiled."""

import runpy
import sys
from pathlib import Path

from django.template import engines

from core.warm import template_names, warm

ROOT = Path(__file__).resolve().parents[2]


def cached_templates() -> set[str]:
    loader = engines["django"].engine.template_loaders[0]
    return set(loader.get_template_cache)  # keyed by the template's name


def test_warming_imports_the_views_and_compiles_every_template_of_the_site():
    engines["django"].engine.template_loaders[0].reset()
    assert "accounts/account_list.html" not in cached_templates()

    figures = warm()

    assert figures["url_patterns"] > 5
    ours = template_names([ROOT / "templates"])
    assert {"base.html", "accounts/account_list.html", "segmentation/tiers/list.html"} <= set(ours)
    assert figures["templates"] >= len(ours)
    assert set(ours) <= cached_templates()
    assert "accounts.views" in sys.modules and "segmentation.tier_views" in sys.modules


def test_gunicorn_loads_the_application_in_its_master_and_warms_it_there(monkeypatch):
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["preload_app"] is True
    said = []

    class Log:
        def info(self, message, *args):
            said.append(message % args[0])

    calls = []
    monkeypatch.setattr("core.warm.warm", lambda: calls.append(1) or {"url_patterns": 18, "templates": 244})
    settings["when_ready"](type("Server", (), {"log": Log()})())
    assert calls == [1]
    assert said == ["warmed: 18 URL patterns, 244 templates compiled"]
