#!/usr/bin/env bash
# Make sure Prometheus and promtool are installed (Debian package `prometheus`).
#
# `make monitoring` and the monitoring tests use them. Prints the prometheus executable's
# path on success; exits non-zero with a one-line reason otherwise (scripts/ensure-deb.sh).
set -euo pipefail
PROMETHEUS="${TRADELOOP_PROMETHEUS:-/usr/bin/prometheus}"
exec "$(dirname "$0")/ensure-deb.sh" ensure-prometheus prometheus "$PROMETHEUS" \
    "$(dirname "$PROMETHEUS")/promtool"
