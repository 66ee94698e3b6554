"""The ASGI application, for servers that speak ASGI; like the WSGI one it runs the production settings by default."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
