#!/usr/bin/env bash
# A production install is complete: a venv from requirements.txt alone (the Dockerfile's
# install, no dev tools to bring in what it forgot) starts web, worker and beat. CI runs this
# before the tests. Redis database 15 keeps its queues apart from anything else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt
export REDIS_URL=redis://localhost:6379/15 CELERY_BROKER_URL=redis://localhost:6379/15
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$work/venv/bin/gunicorn" config.wsgi --bind "127.0.0.1:$port" --workers 1 >"$work/web.log" 2>&1 &
pids=$!
"$work/venv/bin/celery" -A config worker --concurrency 1 --without-gossip --without-mingle \
  --without-heartbeat --loglevel INFO >"$work/worker.log" 2>&1 &
pids="$pids $!"
"$work/venv/bin/celery" -A config beat --loglevel INFO --schedule "$work/beat-schedule" \
  >"$work/beat.log" 2>&1 &
pids="$pids $!"
trap 'kill $pids 2>/dev/null || true' EXIT

healthy() {
  python3 -c "import sys, urllib.request as r; sys.exit(r.urlopen(sys.argv[1], timeout=2).status != 200)" \
    "http://127.0.0.1:$port/healthz"
}
check() {  # check <what> <log> <command…>: the command succeeds within 60 s, or the log is shown
  local what=$1 log=$2; shift 2
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && { echo "production install: $what up"; return 0; }; sleep 1; done
  echo "production install: $what did not start" >&2; cat "$log" >&2; return 1
}
check web "$work/web.log" healthy
check worker "$work/worker.log" grep -q " ready." "$work/worker.log"
check beat "$work/beat.log" grep -q "beat: Starting" "$work/beat.log"
sleep 2  # still running a moment later (a worker that dies on its first task import shows here)
for pid in $pids; do kill -0 "$pid" || { cat "$work"/*.log >&2; exit 1; }; done
