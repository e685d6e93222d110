#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer and the database exists: starts them with the
# machine's own commands when installed but down, installs them with apt-get when absent.
set -euo pipefail

database_url=${DATABASE_URL:-postgres://localhost:5432/rastro}
redis_port=$(python3 -c "import sys,urllib.parse as u;print(u.urlparse(sys.argv[1]).port or 6379)" "${REDIS_URL:-redis://localhost:6379/0}")

wait_for() {  # wait_for <what> <command…>
  local what=$1; shift
  for _ in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "ensure-services: $what does not answer" >&2; return 1
}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "ensure-services: installing PostgreSQL"; apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi

if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "ensure-services: installing Redis"; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  fi
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis-cli -p "$redis_port" ping
fi
# The browser tests (tests/browser) drive Debian's Chromium, never a browser downloaded by
# Playwright. Not fatal here: without it those tests fail, everything else still runs.
if ! [ -x /usr/bin/chromium ]; then
  echo "ensure-services: installing Chromium"
  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } ||
    echo "ensure-services: Chromium could not be installed; tests/browser will fail" >&2
fi

# The broker must never evict queued tasks (RELIABILITY.md).
redis-cli -p "$redis_port" config set maxmemory-policy noeviction >/dev/null

database=$(python3 -c "import sys,urllib.parse as u;print(u.urlparse(sys.argv[1]).path.lstrip('/'))" "$database_url")
server_url=${database_url%/*}/postgres
if [ "$(psql "$server_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
  psql "$server_url" -q -c "CREATE DATABASE \"$database\""
fi

# The role web, workers and beat connect as: it owns no table (docs/security.md, "Database
# roles"); `migrate` grants it what it may do.
app_role=${DATABASE_APP_ROLE:-rastro_app}
psql "$server_url" -q -c "DO \$\$ BEGIN CREATE ROLE \"$app_role\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
