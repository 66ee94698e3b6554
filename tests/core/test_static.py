"""Static files in production: `collectstatic` names each file by a hash of its content and writes gzip and Brotli
copies beside it; pages link the hashed names; whitenoise serves them compressed and cached for a year or more.

One subprocess with the production settings (DEBUG off) and STATIC_ROOT in a temporary directory: collectstatic,
then the login page and its static files through the site's WSGI application.
"""

import json
import os
import re
import subprocess
import sys

from django.conf import settings

PROBE = r"""
import json, re, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client

# The site's own files (static/): the apps' (admin, the API docs' bundles...) take a minute to compress, the same way.
call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=sys.argv[1:])

client = Client(HTTP_HOST="revops.example")
page = client.get("/login/", secure=True)  # production redirects plain HTTP to HTTPS
html = page.content.decode()
links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def fetch(url, encoding):
    response = client.get(url, secure=True, HTTP_ACCEPT_ENCODING=encoding)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return {
        "status": response.status_code,
        "encoding": response.get("Content-Encoding"),
        "cache": response.get("Cache-Control"),
        "vary": response.get("Vary"),
        "length": len(body),
    }


css = [link for link in links if link.endswith(".css") and "/css/app." in link]
answers = {}
for link in css:
    for encoding in ("gzip", "br", "gzip, deflate, br", "identity"):
        answers[f"{link} {encoding}"] = fetch(link, encoding)
answers["/static/css/app.css identity"] = fetch("/static/css/app.css", "identity")
print(json.dumps({
    "debug": settings.DEBUG,
    "storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "page": page.status_code,
    "links": links,
    "answers": answers,
}))
"""

OTHER_APPS_STATIC = ["admin", "drf_spectacular_sidecar", "rest_framework", "django_tables2"]
HASHED_APP_CSS = r"^/static/css/app\.[0-9a-f]{12}\.css$"
ONE_YEAR = 365 * 24 * 3600


def test_production_serves_hashed_compressed_static_files_cached_for_good(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_FORMAT"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="production-like-" + "s" * 60,
        ALLOWED_HOSTS="revops.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *OTHER_APPS_STATIC],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["debug"] is False
    assert result["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert (tmp_path / "static" / "staticfiles.json").exists()

    # The page links the hashed name, never the plain one.
    assert result["page"] == 200
    app_css = [link for link in result["links"] if "/css/app." in link]
    assert len(app_css) == 1, result["links"]
    [link] = app_css
    assert re.match(HASHED_APP_CSS, link), link
    assert "/static/css/app.css" not in result["links"]
    assert len(result["links"]) >= 4  # bootstrap's CSS and JS, the site's CSS and JS
    assert all(re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", link) for link in result["links"]), result["links"]

    answers = result["answers"]
    for encoding, expected in (("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br", "br"), ("identity", None)):
        answer = answers[f"{link} {encoding}"]
        assert answer["status"] == 200, (encoding, answer)
        assert answer["encoding"] == expected, (encoding, answer)
        assert "Accept-Encoding" in (answer["vary"] or "")
        directives = dict(
            part.strip().partition("=")[::2] for part in answer["cache"].split(",")
        )  # max-age=..., public, immutable
        assert int(directives["max-age"]) >= ONE_YEAR and "immutable" in directives, answer["cache"]
    # Compressed copies are smaller than the file itself.
    assert answers[f"{link} br"]["length"] < answers[f"{link} identity"]["length"]
    assert answers[f"{link} gzip"]["length"] < answers[f"{link} identity"]["length"]

    # The plain name still answers (an old page in a cache), but is not cached for good.
    plain = answers["/static/css/app.css identity"]
    assert plain["status"] == 200 and "immutable" not in plain["cache"]
