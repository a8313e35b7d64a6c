#!/usr/bin/env bash
# Make sure Alertmanager and amtool are installed (Debian package `prometheus-alertmanager`).
#
# `make monitoring` and the monitoring tests use them; nothing here downloads a binary of its
# own. Prints the alertmanager executable's path on success; exits non-zero with a one-line
# reason otherwise. The package's own service is not started (we start Alertmanager
# ourselves, on loopback, with the project's config).
set -euo pipefail

ALERTMANAGER="${TRADELOOP_ALERTMANAGER:-/usr/bin/prometheus-alertmanager}"
AMTOOL="$(dirname "$ALERTMANAGER")/amtool"

if [ -x "$ALERTMANAGER" ] && [ -x "$AMTOOL" ]; then
    echo "$ALERTMANAGER"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-alertmanager: $ALERTMANAGER is missing and apt-get is not available to install Debian's prometheus-alertmanager" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure-alertmanager: $ALERTMANAGER is missing; run 'apt-get install prometheus-alertmanager' as root" >&2
        exit 1
    fi
fi

# One process at a time: parallel test workers may call this together (the same lock as
# ensure-prometheus.sh: both run apt-get).
exec 9>/tmp/tradeloop-ensure-prometheus.lock
flock 9
if [ -x "$ALERTMANAGER" ] && [ -x "$AMTOOL" ]; then
    echo "$ALERTMANAGER"
    exit 0
fi

LOG=/tmp/tradeloop-ensure-alertmanager.log
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package's service is not started by the install (no daemon on :9093).
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ] && [ -z "$SUDO" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod +x "$POLICY" && CREATED_POLICY=1
fi
cleanup() { if [ -n "$CREATED_POLICY" ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT
$SUDO apt-get update -q >"$LOG" 2>&1 || true
if ! $SUDO apt-get install -y -q --no-install-recommends prometheus-alertmanager >>"$LOG" 2>&1; then
    echo "ensure-alertmanager: apt-get install prometheus-alertmanager failed (log: $LOG)" >&2
    exit 1
fi

if [ ! -x "$ALERTMANAGER" ] || [ ! -x "$AMTOOL" ]; then
    echo "ensure-alertmanager: prometheus-alertmanager installed but $ALERTMANAGER or $AMTOOL is not executable" >&2
    exit 1
fi
echo "$ALERTMANAGER"
