#!/usr/bin/env bash
# Make sure Prometheus and promtool are installed (Debian package `prometheus`).
#
# `make monitoring` and the monitoring tests use them; nothing here downloads a binary of its
# own. Prints the prometheus executable's path on success; exits non-zero with a one-line
# reason otherwise. The package's own service is not started (we start Prometheus ourselves,
# on loopback, with the project's config).
set -euo pipefail

PROMETHEUS="${TRADELOOP_PROMETHEUS:-/usr/bin/prometheus}"
PROMTOOL="$(dirname "$PROMETHEUS")/promtool"

if [ -x "$PROMETHEUS" ] && [ -x "$PROMTOOL" ]; then
    echo "$PROMETHEUS"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-prometheus: $PROMETHEUS is missing and apt-get is not available to install Debian's prometheus" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure-prometheus: $PROMETHEUS is missing; run 'apt-get install prometheus' as root" >&2
        exit 1
    fi
fi

# One process at a time: parallel test workers may call this together.
exec 9>/tmp/tradeloop-ensure-prometheus.lock
flock 9
if [ -x "$PROMETHEUS" ] && [ -x "$PROMTOOL" ]; then
    echo "$PROMETHEUS"
    exit 0
fi

LOG=/tmp/tradeloop-ensure-prometheus.log
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package's service is not started by the install (no daemon on :9090).
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ] && [ -z "$SUDO" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod +x "$POLICY" && CREATED_POLICY=1
fi
cleanup() { if [ -n "$CREATED_POLICY" ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT
$SUDO apt-get update -q >"$LOG" 2>&1 || true
if ! $SUDO apt-get install -y -q --no-install-recommends prometheus >>"$LOG" 2>&1; then
    echo "ensure-prometheus: apt-get install prometheus failed (log: $LOG)" >&2
    exit 1
fi

if [ ! -x "$PROMETHEUS" ] || [ ! -x "$PROMTOOL" ]; then
    echo "ensure-prometheus: prometheus installed but $PROMETHEUS or $PROMTOOL is not executable" >&2
    exit 1
fi
echo "$PROMETHEUS"
