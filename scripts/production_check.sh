#!/usr/bin/env bash
# The production run, end to end, as CI does it: the Procfile's processes (gunicorn with the production settings, a
# Celery worker, beat) on PostgreSQL and Redis, after `migrate` and `collectstatic`. Checks the login page, a
# compressed hashed static file, /healthz and /readyz, a token from the API and a call with it, that the worker
# answers and beat holds the schedule; then stops them all and checks none is left.
#
# Needs DATABASE_URL (an empty PostgreSQL database) and REDIS_URL. Usage: bash scripts/production_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to an empty PostgreSQL database}"
: "${REDIS_URL:?set REDIS_URL}"

work=$(mktemp -d)
export PATH="$PWD/.venv/bin:$PATH"
unset DJANGO_SETTINGS_MODULE  # wsgi.py and the Celery app default to production; manage.py is told below
SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(64))')
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export STATIC_ROOT="$work/static" MEDIA_ROOT="$work/media"
export LOG_FORMAT=json
export PORT=${PRODUCTION_CHECK_PORT:-8100} WEB_CONCURRENCY=2
export CELERY_BEAT_SCHEDULE_FILE="$work/celerybeat-schedule"
base="http://127.0.0.1:$PORT"
# The reverse proxy terminates TLS and says so (SECURE_PROXY_SSL_HEADER); without it the site redirects to https.
https=(-H "X-Forwarded-Proto: https")

fail() { echo "production check failed: $*" >&2; for f in "$work"/*.log; do echo "--- $f"; tail -n 40 "$f"; done; exit 1; }

manage() { python manage.py "$@" --settings=config.settings.production; }
manage check --deploy --fail-level WARNING
manage migrate --no-input -v0
manage collectstatic --no-input -v0
DJANGO_SUPERUSER_PASSWORD=prod-check-pw manage createsuperuser --no-input --username ops --email ops@example.com

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 30); do kill -0 "-$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "-$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT

# Start each process the Procfile names, with its own command line, in its own process group.
for name in web worker beat; do
  command=$(sed -n "s/^$name: //p" Procfile)
  [ -n "$command" ] || fail "the Procfile names no $name process"
  setsid bash -c "exec $command" >"$work/$name.log" 2>&1 &
  pids+=($!)
done

for _ in $(seq 1 60); do curl -fsS -o /dev/null "$base/healthz" && break; sleep 1; done
[ "$(curl -fsS "$base/healthz")" = '{"status": "alive"}' ] || fail "/healthz"
ready=$(curl -sS -w ' %{http_code}' "$base/readyz")
[[ "$ready" == *'"status": "ready"'*' 200' ]] || fail "/readyz answered $ready"

login=$(curl -fsS "${https[@]}" "$base/login/")
grep -q 'name="password"' <<<"$login" || fail "the login page has no password field"
css=$(grep -o '/static/[^"]*\.[0-9a-f]\{12\}\.css' <<<"$login" | head -n1)
[ -n "$css" ] || fail "the login page links no hashed stylesheet"
headers=$(curl -fsS -D - -o "$work/static.gz" -H "Accept-Encoding: gzip" "${https[@]}" "$base$css")
grep -qi '^content-encoding: gzip' <<<"$headers" || fail "$css is not served gzipped: $headers"
grep -qi '^cache-control: .*max-age=315360000.*immutable' <<<"$headers" || fail "$css is not cached for good: $headers"
gzip -t "$work/static.gz" || fail "$css is not valid gzip"

token=$(curl -fsS "${https[@]}" -H "Content-Type: application/json" \
  -d '{"username": "ops", "password": "prod-check-pw", "name": "production check"}' "$base/api/v1/auth/token/" |
  python -c 'import json, sys; print(json.load(sys.stdin)["token"])')
accounts=$(curl -sS -w ' %{http_code}' "${https[@]}" -H "Authorization: Token $token" "$base/api/v1/accounts/")
[[ "$accounts" == *'"results"'*' 200' ]] || fail "the API call with a token answered $accounts"
refused=$(curl -sS -o /dev/null -w '%{http_code}' "${https[@]}" -H "Authorization: Token rvo_wrong" "$base/api/v1/accounts/")
[ "$refused" = 401 ] || fail "a wrong token answered $refused"
grep -q '"request_id"' "$work/web.log" || fail "the web log has no JSON line with a request id"

for _ in $(seq 1 60); do
  DJANGO_SETTINGS_MODULE=config.settings.production celery -A config inspect ping --timeout 2 >/dev/null 2>&1 && break
  sleep 1
done
DJANGO_SETTINGS_MODULE=config.settings.production celery -A config inspect ping --timeout 5 >/dev/null ||
  fail "no Celery worker answers"
for _ in $(seq 1 30); do
  redis-cli -u "$REDIS_URL" get revops:beat:holder | grep -q . && break
  sleep 1
done
redis-cli -u "$REDIS_URL" get revops:beat:holder | grep -q . || fail "beat does not hold the schedule lock"

stop_all
trap - EXIT
sleep 1
if pgrep -f "gunicorn config.wsgi|celery -A config (worker|beat)" >/dev/null; then fail "a process outlived the stop"; fi
echo "production check passed: gunicorn, whitenoise, /readyz, token API, worker and beat on $DATABASE_URL"
