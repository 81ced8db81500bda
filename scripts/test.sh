#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, types, migrations check, then pytest
# on SQLite and on PostgreSQL (started here if it is not running).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev

# A real browser for the end-to-end tests.
if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium (apt)…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || { echo "Could not install chromium with apt-get" >&2; exit 1; }
fi

# PostgreSQL on 127.0.0.1:5432.
PG_URL=${AMENDS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/amends}
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "Starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

export AMENDS_DATA_DIR=${AMENDS_DATA_DIR:-$(mktemp -d)}
export DJANGO_SETTINGS_MODULE=config.settings.test
V=.venv/bin

echo "== ruff"
$V/ruff format --check --quiet .
$V/ruff check --quiet .
echo "== mypy"
# Not `mypy … && echo ok`: under `set -e` a failure on the left of && does not stop the script.
$V/mypy --no-error-summary .
echo "mypy: ok"
echo "== import layers"
$V/lint-imports
echo "== django checks"
$V/python manage.py check --fail-level WARNING
$V/python manage.py makemigrations --check --dry-run

# Two processes by default (the CI machines have two cores); AMENDS_TEST_WORKERS=0 for one.
WORKERS=${AMENDS_TEST_WORKERS:-2}

echo "== pytest on SQLite"
$V/python -m pytest -p no:cacheprovider -n "$WORKERS" "$@"

echo "== pytest on PostgreSQL"
DATABASE_URL=$PG_URL $V/python -m pytest -p no:cacheprovider -n "$WORKERS" "$@"
