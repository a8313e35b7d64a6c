#!/usr/bin/env bash
# `make monitoring`: a real Prometheus (Debian package, installed when missing) scraping a
# tradeloop node with the shipped rules (deploy/prometheus/).
#
#   NODE=127.0.0.1:8780          the node's --api address
#   PROMETHEUS=127.0.0.1:9090    where Prometheus listens (loopback by default)
#   DATA=runs/prometheus         its config copy and time-series storage
#
# Runs in the foreground until Ctrl-C. Open http://$PROMETHEUS/alerts for the rules.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="${NODE:-127.0.0.1:8780}"
LISTEN="${PROMETHEUS:-127.0.0.1:9090}"
DATA="${DATA:-$ROOT/runs/prometheus}"

BIN="$(bash "$ROOT/scripts/ensure-prometheus.sh")"
mkdir -p "$DATA"
cp "$ROOT/deploy/prometheus/tradeloop-rules.yml" "$DATA/tradeloop-rules.yml"
sed "s|\"127.0.0.1:8780\"|\"$NODE\"|" "$ROOT/deploy/prometheus/prometheus.yml" >"$DATA/prometheus.yml"
"$(dirname "$BIN")/promtool" check config "$DATA/prometheus.yml" >/dev/null
echo "prometheus: http://$LISTEN scraping http://$NODE/metrics (rules: deploy/prometheus/tradeloop-rules.yml)"
exec "$BIN" \
    --config.file="$DATA/prometheus.yml" \
    --storage.tsdb.path="$DATA/data" \
    --web.listen-address="$LISTEN" \
    --log.level=warn
