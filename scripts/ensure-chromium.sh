#!/usr/bin/env bash
# The web console's browser tests drive Debian's chromium through Playwright (never `playwright install`: the
# browser download is not reachable). Make sure it is on the machine.
set -euo pipefail
if [ -x "${ATELIER_CHROMIUM:-/usr/bin/chromium}" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the console's browser tests…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "chromium not found: install Debian's chromium package or set ATELIER_CHROMIUM" >&2
exit 1
