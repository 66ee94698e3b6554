"""gunicorn's settings for the web process (Procfile: `gunicorn config.wsgi -c gunicorn.conf.py`), from the
environment: PORT (or GUNICORN_BIND), WEB_CONCURRENCY worker processes, GUNICORN_THREADS, GUNICORN_TIMEOUT."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Finished workers are replaced now and then, so a slow leak in one never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The application is loaded and warmed (core/warm.py: every view imported, every template compiled) once in the master
# process; the workers are forked from it, so a new worker, at start or after max_requests, serves its first page as
# fast as its hundredth.
preload_app = True


def when_ready(server):
    import gc

    from core.warm import warm

    server.log.info("warmed: %(url_patterns)s URL patterns, %(templates)s templates compiled", warm())
    # What the master holds now lives as long as every worker: moved out of the garbage collector's sight, so no
    # worker's collection walks (and so copies, page by page) the objects it shares.
    gc.freeze()


# The app writes one access line per request itself (core/logs.py, with the request id, as JSON when
# LOG_FORMAT=json); gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
# X-Forwarded-* headers are trusted only from these addresses (the reverse proxy), as Django's
# SECURE_PROXY_SSL_HEADER and TRUSTED_PROXY_COUNT assume.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
