"""What a web process does once, before it serves anyone: import every view (the URLconf and what it names), compile
every template and fill the URL resolver's reverse map. gunicorn loads the application in its master process and
calls `warm()` there (gunicorn.conf.py: preload_app, when_ready), so each worker it forks, and each worker that
replaces one after GUNICORN_MAX_REQUESTS, starts with all of it in memory: without it, a new worker's first pages
cost up to a second each (imports and template compilation), which readers saw as the slow tail of every page."""

from __future__ import annotations

from pathlib import Path

from django.db import connections
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver


def template_names(directories) -> list[str]:
    """Every template under `directories`, by the name a view asks for it."""
    names = set()
    for directory in map(Path, directories):
        if directory.is_dir():
            names.update(
                str(path.relative_to(directory)) for path in directory.rglob("*") if path.suffix in {".html", ".txt"}
            )
    return sorted(names)


def warm() -> dict:
    """Import the views, fill the resolver and compile the templates of every template engine; how many of each.
    Touches no database: a connection opened here would be shared by every forked worker (closed anyway, in case an
    import opened one)."""
    resolver = get_resolver()
    patterns = resolver.url_patterns  # imports config.urls and, through it, every app's views
    resolver.reverse_dict  # noqa: B018 (the property fills the reverse map for the default language)
    compiled = 0
    for engine in engines.all():
        directories = list(engine.template_dirs)
        for name in template_names(directories):
            try:
                engine.get_template(name)
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue  # a fragment that is not a template of its own (a library's include of another engine)
            compiled += 1
    connections.close_all()
    return {"url_patterns": len(patterns), "templates": compiled}
