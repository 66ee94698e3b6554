#!/usr/bin/env bash
# Serve the app for `make demo`, once `load_demo` has loaded it complete (scored, with spend potential and trends: it
# runs every task itself and waits). With REDIS_URL set, a Celery worker and beat run beside the web server; the
# three start together and stop together (Ctrl-C, SIGTERM, or any one of them exiting).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# The demo runs the local settings (the web server, worker and beat would otherwise default to production).
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
ADDR=${DEMO_ADDR:-127.0.0.1:8000}
# The demo shows the site as its users see it: DEBUG off, so a missing page, a refused one or an error shows the
# site's own pages (under the same Content-Security-Policy), not Django's debug pages. DEBUG=true make demo brings
# those back. runserver --insecure serves the static files from the project's folders, as with DEBUG on.
export DEBUG=${DEBUG:-false}
HOST=${ADDR%:*}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-127.0.0.1,localhost,$HOST}
mkdir -p "${STATIC_ROOT:-staticfiles}"  # whitenoise's folder for collected files (none needed here): no warning
SERVE=("$PY" manage.py runserver --noreload --insecure "$ADDR")

if [ -z "${REDIS_URL:-}" ]; then
  echo "Serving on http://$ADDR/ (tasks run in-process; set DATABASE_URL and REDIS_URL to use PostgreSQL and a worker)"
  exec "${SERVE[@]}"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

beat_schedule=$(mktemp -d)/celerybeat-schedule
.venv/bin/celery -A config worker -l info --concurrency 2 & pids+=($!)
.venv/bin/celery -A config beat -l info --schedule "$beat_schedule" & pids+=($!)
echo "Serving on http://$ADDR/ with a Celery worker and beat on $REDIS_URL"
"${SERVE[@]}" & pids+=($!)

# When any of the three exits, stop the others.
wait -n "${pids[@]}"
status=$?
echo "A demo process exited ($status); stopping the others."
exit "$status"
