#!/usr/bin/env bash
# Make sure a Debian package's executable and its companion tool are installed.
#
#   ensure-deb.sh NAME PACKAGE EXECUTABLE TOOL
#
# (ensure-prometheus.sh and ensure-alertmanager.sh call it.) Nothing is downloaded but the
# Debian package. Prints EXECUTABLE on success; exits non-zero with a one-line reason (prefixed
# NAME) otherwise. The package's own service is not started: the project starts the server
# itself, on loopback, with its own config.
set -euo pipefail

NAME="$1" PACKAGE="$2" EXECUTABLE="$3" TOOL="$4"

if [ -x "$EXECUTABLE" ] && [ -x "$TOOL" ]; then
    echo "$EXECUTABLE"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "$NAME: $EXECUTABLE is missing and apt-get is not available to install Debian's $PACKAGE" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "$NAME: $EXECUTABLE is missing; run 'apt-get install $PACKAGE' as root" >&2
        exit 1
    fi
fi

# One apt-get at a time: parallel test workers may call this together, for any package.
exec 9>/tmp/tradeloop-ensure-deb.lock
flock 9
if [ -x "$EXECUTABLE" ] && [ -x "$TOOL" ]; then
    echo "$EXECUTABLE"
    exit 0
fi

LOG="/tmp/tradeloop-$NAME.log"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package's service is not started by the install (no daemon on its port).
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=""
if [ ! -e "$POLICY" ] && [ -z "$SUDO" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod +x "$POLICY" && CREATED_POLICY=1
fi
cleanup() { if [ -n "$CREATED_POLICY" ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT
$SUDO apt-get update -q >"$LOG" 2>&1 || true
if ! $SUDO apt-get install -y -q --no-install-recommends "$PACKAGE" >>"$LOG" 2>&1; then
    echo "$NAME: apt-get install $PACKAGE failed (log: $LOG)" >&2
    exit 1
fi

if [ ! -x "$EXECUTABLE" ] || [ ! -x "$TOOL" ]; then
    echo "$NAME: $PACKAGE installed but $EXECUTABLE or $TOOL is not executable" >&2
    exit 1
fi
echo "$EXECUTABLE"
