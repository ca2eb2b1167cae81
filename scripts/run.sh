#!/usr/bin/env bash
# make run: migrate, load the demo workspace on first run only, start the job worker and the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
GX=.venv/bin/guanxi
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export GUANXI_DATA_DIR=${GUANXI_DATA_DIR:-$PWD/var}
mkdir -p "$GUANXI_DATA_DIR"

$GX migrate -v 0
$GX demo --if-empty

$GX worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  Guanxi 关系 is running: http://${HOST}:${PORT}/
  API docs: http://${HOST}:${PORT}/api/v1/docs
  Data directory: ${GUANXI_DATA_DIR}

  Demo logins (password: guanxi-demo)
    admin     administrator / 管理员
    manager   manager of both teams / 销售经理
    wang      salesperson, team East / 华东组销售
    li        salesperson, team North / 华北组销售
    zhang, liu  more salespeople (East, North)

MSG
$GX serve --host "$HOST" --port "$PORT"
