#!/usr/bin/env bash
# Install Amends, build a demo organisation on SQLite and serve it at http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
export AMENDS_DATA_DIR=${AMENDS_DATA_DIR:-$PWD/var/demo}
.venv/bin/amends migrate --verbosity 0
.venv/bin/amends seed-demo --if-empty
BIND=${AMENDS_BIND:-127.0.0.1:8000}
echo
echo "Amends demo: http://$BIND/"
echo "  logins (password: demo-pass-2026): agent alex, agent sam, supervisor sky, manager morgan, admin admin"
echo "  API docs: http://$BIND/api/docs   admin: http://$BIND/admin/"
echo
exec .venv/bin/amends serve --bind "$BIND"
