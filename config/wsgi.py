"""The WSGI application (gunicorn: `gunicorn config.wsgi`). It runs the production settings unless told otherwise, so a
forgotten DJANGO_SETTINGS_MODULE can never serve debug pages with a public secret key; those settings refuse to
start without SECRET_KEY and ALLOWED_HOSTS."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
