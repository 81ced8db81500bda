#!/usr/bin/env bash
# Install Amends, build a demo organisation on SQLite and serve it at http://127.0.0.1:8000,
# with the background worker beside the server (sweeps, escalations, notifications, mail).
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
export AMENDS_DATA_DIR=${AMENDS_DATA_DIR:-$PWD/var/demo}
# The demo's triage model, trained once by seed-demo from the public CFPB narratives
# (../shared/data/cfpb_narratives_product_dev.csv) when they are present; new cases get its
# category suggestions.
export AMENDS_TRIAGE_MODEL=${AMENDS_TRIAGE_MODEL:-$AMENDS_DATA_DIR/models/triage.skops}
.venv/bin/amends migrate --verbosity 0
.venv/bin/amends seed-demo --if-empty
BIND=${AMENDS_BIND:-127.0.0.1:8000}
# The demo writes the mail it would send (replies, notifications) to files instead of an SMTP
# server; set EMAIL_BACKEND (and EMAIL_HOST, …) to send for real.
export EMAIL_BACKEND=${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}
export EMAIL_FILE_PATH=${EMAIL_FILE_PATH:-$AMENDS_DATA_DIR/sent-mail}
# Sweeps every 30 s in the demo (production default: AMENDS_SWEEP_INTERVAL_SECONDS), so
# promises break and escalate while you watch.
SWEEP_INTERVAL=${AMENDS_DEMO_SWEEP_INTERVAL:-30}

# The worker runs in the background; a non-interactive shell starts it with Ctrl-C ignored,
# so the traps below stop it (SIGTERM: it finishes the task in hand) when the server ends.
.venv/bin/amends worker --sweep-interval "$SWEEP_INTERVAL" &
WORKER_PID=$!
stop_worker() {
  if kill -0 "$WORKER_PID" 2>/dev/null; then
    kill -TERM "$WORKER_PID" 2>/dev/null || true
    wait "$WORKER_PID" 2>/dev/null || true
  fi
}
trap stop_worker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo
echo "Amends demo: http://$BIND/"
echo "  logins (password: demo-pass-2026): agent alex, agent sam, supervisor sky, manager morgan, admin admin"
echo "  API docs: http://$BIND/api/docs   admin: http://$BIND/admin/"
echo "  worker: running beside the server (pid $WORKER_PID), sweeping every ${SWEEP_INTERVAL} s"
echo "  mail the demo sends: $EMAIL_FILE_PATH"
echo "  Ctrl-C stops both."
echo
# Not exec: this shell stays to stop the worker. The server gets Ctrl-C itself.
.venv/bin/amends serve --bind "$BIND" &
SERVER_PID=$!
trap 'kill -TERM "$SERVER_PID" 2>/dev/null || true; exit 130' INT
trap 'kill -TERM "$SERVER_PID" 2>/dev/null || true; exit 143' TERM
# If either stops on its own, stop the other too.
while kill -0 "$SERVER_PID" 2>/dev/null && kill -0 "$WORKER_PID" 2>/dev/null; do
  sleep 1
done
kill -TERM "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
