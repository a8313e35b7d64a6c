#!/usr/bin/env bash
# Make sure Alertmanager and amtool are installed (Debian package `prometheus-alertmanager`).
#
# `make monitoring` and the monitoring tests use them. Prints the alertmanager executable's
# path on success; exits non-zero with a one-line reason otherwise (scripts/ensure-deb.sh).
set -euo pipefail
ALERTMANAGER="${TRADELOOP_ALERTMANAGER:-/usr/bin/prometheus-alertmanager}"
exec "$(dirname "$0")/ensure-deb.sh" ensure-alertmanager prometheus-alertmanager \
    "$ALERTMANAGER" "$(dirname "$ALERTMANAGER")/amtool"
