#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432; start the local cluster if it is down.
# Fails loudly: the test suite must never silently fall back to SQLite in CI.
set -euo pipefail
ready() { pg_isready -h 127.0.0.1 -p 5432 -q; }
if ready; then exit 0; fi
echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it…"
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
fi
for _ in $(seq 1 30); do
  if ready; then echo "PostgreSQL is up."; exit 0; fi
  sleep 1
done
echo "FATAL: PostgreSQL could not be started on 127.0.0.1:5432 (see /var/log/postgresql)." >&2
exit 1
