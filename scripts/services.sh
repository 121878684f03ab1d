#!/usr/bin/env bash
# Start the real PostgreSQL and Redis servers the integration tests use, when they are
# installed and not already running. Idempotent. Creates the role pregao/pregao (superuser,
# so tests can create and drop their own databases) on 127.0.0.1:5432 and Redis on :6379.
set -u
if command -v pg_ctlcluster >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
      pg_createcluster "$ver" main >/dev/null 2>&1 || true
    fi
    if command -v service >/dev/null 2>&1; then service postgresql start >/dev/null 2>&1 || true; fi
    pg_ctlcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- psql -q -tAc "SELECT 1 FROM pg_roles WHERE rolname='pregao'" 2>/dev/null | grep -q 1 \
      || runuser -u postgres -- psql -q -c "CREATE ROLE pregao LOGIN SUPERUSER PASSWORD 'pregao'" >/dev/null
  fi
  pg_isready -h 127.0.0.1 -p 5432 -q && echo "PostgreSQL: up on 127.0.0.1:5432"
else
  echo "PostgreSQL: not installed (apt-get install postgresql); its tests will be skipped"
fi
if command -v redis-server >/dev/null 2>&1; then
  if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
    redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 1 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  redis-cli -p 6379 ping >/dev/null 2>&1 && echo "Redis: up on 127.0.0.1:6379"
else
  echo "Redis: not installed (apt-get install redis-server); its tests will be skipped"
fi
exit 0
