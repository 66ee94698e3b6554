#!/usr/bin/env bash
# Serve the app for `make demo`. With REDIS_URL set, a Celery worker and beat run beside the web
# server; the three start together and stop together (Ctrl-C, SIGTERM, or any one of them exiting).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# The demo runs the local settings (the web server, worker and beat would otherwise default to production).
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
ADDR=${DEMO_ADDR:-127.0.0.1:8000}

if [ -z "${REDIS_URL:-}" ]; then
  echo "Serving on http://$ADDR/ (tasks run in-process; set DATABASE_URL and REDIS_URL to use PostgreSQL and a worker)"
  exec "$PY" manage.py runserver --noreload "$ADDR"
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
"$PY" manage.py runserver --noreload "$ADDR" & pids+=($!)

# When any of the three exits, stop the others.
wait -n "${pids[@]}"
status=$?
echo "A demo process exited ($status); stopping the others."
exit "$status"
