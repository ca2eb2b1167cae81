#!/usr/bin/env bash
# make test: the whole suite on SQLite, then on PostgreSQL when one is reachable.
# Under CI=true the PostgreSQL run and the browser tests are required, not optional.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=".venv/bin/pytest"
export GUANXI_ENV=test
# A database name of this run's own, so two runs on one PostgreSQL server do not collide.
export GUANXI_TEST_DB_NAME=${GUANXI_TEST_DB_NAME:-test_guanxi_$$}
export GUANXI_DATA_DIR=$(mktemp -d)
trap 'rm -rf "$GUANXI_DATA_DIR"' EXIT
CI=${CI:-false}
ARGS=("$@")

banner() { printf '\n==== %s ====\n' "$*"; }

if [ "$CI" = "true" ]; then
  export GUANXI_REQUIRE_BROWSER=1
fi

banner "SQLite"
DATABASE_URL= $PYTEST -n 2 "${ARGS[@]}"
sqlite_rc=$?

PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_rc=0
if .venv/bin/python - "$PG_URL" <<'PY'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
except Exception as exc:  # noqa: BLE001
    print(f"PostgreSQL unreachable: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  banner "PostgreSQL ($PG_URL)"
  # The browser tests drive the same views; running them once (on SQLite) is enough.
  DATABASE_URL="$PG_URL" $PYTEST -n 2 -m "not browser" "${ARGS[@]}"
  pg_rc=$?
else
  echo
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!  PostgreSQL is NOT reachable at $PG_URL"
  echo "!!  The suite ran on SQLite only. Set DATABASE_URL or start PostgreSQL."
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  if [ "$CI" = "true" ]; then
    echo "CI=true: the PostgreSQL run is required." >&2
    pg_rc=1
  fi
fi

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
  echo "FAILED: sqlite=$sqlite_rc postgresql=$pg_rc" >&2
  exit 1
fi
