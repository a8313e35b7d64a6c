#!/usr/bin/env bash
# Make sure a headless Chromium is at /usr/bin/chromium (Debian package `chromium`).
#
# The report's browser test and `tradeloop report --png` use it; nothing here downloads a
# browser build of its own (Playwright is launched with executable_path=/usr/bin/chromium).
# Prints the executable's path on success; exits non-zero with a one-line reason otherwise.
set -euo pipefail

CHROMIUM="${TRADELOOP_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "$CHROMIUM"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available to install Debian's chromium" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure-chromium: $CHROMIUM is missing; run 'apt-get install chromium' as root" >&2
        exit 1
    fi
fi

# One process at a time: parallel test workers may call this together.
exec 9>/tmp/tradeloop-ensure-chromium.lock
flock 9
if [ -x "$CHROMIUM" ]; then
    echo "$CHROMIUM"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends chromium >/tmp/tradeloop-ensure-chromium.log 2>&1; then
    $SUDO apt-get update -q >>/tmp/tradeloop-ensure-chromium.log 2>&1 || true
    if ! $SUDO apt-get install -y -q --no-install-recommends chromium >>/tmp/tradeloop-ensure-chromium.log 2>&1; then
        echo "ensure-chromium: apt-get install chromium failed (log: /tmp/tradeloop-ensure-chromium.log)" >&2
        exit 1
    fi
fi

if [ ! -x "$CHROMIUM" ]; then
    echo "ensure-chromium: chromium installed but $CHROMIUM is not executable" >&2
    exit 1
fi
echo "$CHROMIUM"
