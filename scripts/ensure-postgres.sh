#!/usr/bin/env bash
# The database tests start their own throwaway PostgreSQL server: make sure its binaries are on the machine.
set -euo pipefail
if [ -x /usr/lib/postgresql/15/bin/initdb ] || [ -n "${ATELIER_PG_BIN:-}" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing PostgreSQL 15 server binaries for the test suite…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
    exit 0
fi
echo "PostgreSQL 15 binaries not found: install postgresql-15 or set ATELIER_PG_BIN" >&2
exit 1
