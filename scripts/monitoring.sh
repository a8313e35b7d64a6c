#!/usr/bin/env bash
# `make monitoring`: a real Prometheus scraping a tradeloop node with the shipped rules
# (deploy/prometheus/) and a real Alertmanager routing its alerts (deploy/alertmanager/), both
# from Debian packages (installed when missing).
#
#   NODE=127.0.0.1:8780          the node's --api address
#   PROMETHEUS=127.0.0.1:9090    where Prometheus listens (loopback by default)
#   ALERTMANAGER=127.0.0.1:9093  where Alertmanager listens (loopback by default)
#   DATA=runs/prometheus         config copies and storage (Alertmanager's under DATA/alertmanager)
#
# Runs in the foreground until Ctrl-C (which stops both). Open http://$PROMETHEUS/alerts for
# the rules and http://$ALERTMANAGER for the alerts Alertmanager holds and routes.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="${NODE:-127.0.0.1:8780}"
LISTEN="${PROMETHEUS:-127.0.0.1:9090}"
AM_LISTEN="${ALERTMANAGER:-127.0.0.1:9093}"
DATA="${DATA:-$ROOT/runs/prometheus}"

BIN="$(bash "$ROOT/scripts/ensure-prometheus.sh")"
AM_BIN="$(bash "$ROOT/scripts/ensure-alertmanager.sh")"
mkdir -p "$DATA/alertmanager"
cp "$ROOT/deploy/prometheus/tradeloop-rules.yml" "$DATA/tradeloop-rules.yml"
sed -e "s|\"127.0.0.1:8780\"|\"$NODE\"|" -e "s|\"127.0.0.1:9093\"|\"$AM_LISTEN\"|" \
    "$ROOT/deploy/prometheus/prometheus.yml" >"$DATA/prometheus.yml"
cp "$ROOT/deploy/alertmanager/alertmanager.yml" "$DATA/alertmanager/alertmanager.yml"
"$(dirname "$BIN")/promtool" check config "$DATA/prometheus.yml" >/dev/null
"$(dirname "$AM_BIN")/amtool" check-config "$DATA/alertmanager/alertmanager.yml" >/dev/null

# Alertmanager in the background (no HA cluster: --cluster.listen-address is empty), stopped
# with this script.
"$AM_BIN" \
    --config.file="$DATA/alertmanager/alertmanager.yml" \
    --storage.path="$DATA/alertmanager/data" \
    --web.listen-address="$AM_LISTEN" \
    --cluster.listen-address= \
    --log.level=warn &
AM_PID=$!
trap 'kill "$AM_PID" 2>/dev/null || true' EXIT INT TERM

echo "alertmanager: http://$AM_LISTEN (config: deploy/alertmanager/alertmanager.yml)"
echo "prometheus: http://$LISTEN scraping http://$NODE/metrics (rules: deploy/prometheus/tradeloop-rules.yml)"
"$BIN" \
    --config.file="$DATA/prometheus.yml" \
    --storage.tsdb.path="$DATA/data" \
    --web.listen-address="$LISTEN" \
    --log.level=warn
