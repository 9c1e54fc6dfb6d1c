# shellcheck shell=bash
# Prometheus for scripts/services (`scripts/services prometheus`): Debian's `prometheus` package, one shared
# server on 127.0.0.1 that scrapes every second whatever targets the tests list in its file_sd directory, so a
# test adds a target by writing a JSON file there (and removes it by deleting the file; Prometheus rereads the
# directory every second).
#   SLUICE_PROMETHEUS_PORT=59090 (web UI and HTTP API; /-/reload and /-/quit are on: --web.enable-lifecycle)
#   state: $STATE/prometheus (prometheus.yml, data/ with a 1-day retention, targets/*.json, prometheus.log)
#   exports SLUICE_TEST_PROMETHEUS_URL=http://127.0.0.1:59090
#           SLUICE_TEST_PROMETHEUS_TARGETS_DIR=$STATE/prometheus/targets
# A target file is file_sd's JSON: [{"targets": ["127.0.0.1:PORT"], "labels": {"job": "NAME", ...}}]; a `job`
# label there replaces the scrape config's job name.

PROMETHEUS_PORT=${SLUICE_PROMETHEUS_PORT:-59090}
[[ $PROMETHEUS_PORT =~ ^[0-9]+$ ]] || die "SLUICE_PROMETHEUS_PORT must be a number, got '$PROMETHEUS_PORT'"
PM_DIR=$STATE/prometheus
PM_CONF=$PM_DIR/prometheus.yml
PM_DATA=$PM_DIR/data
PM_TARGETS=$PM_DIR/targets
PM_PID=$PM_DIR/prometheus.pid
PM_LOG=$PM_DIR/prometheus.log

prometheus_port() { echo "$PROMETHEUS_PORT"; }

prometheus_bin() { command -v prometheus || { [[ -x /usr/bin/prometheus ]] && echo /usr/bin/prometheus; }; }

prometheus_need() {
  need prometheus prometheus_bin
  need curl command -v curl
}

# GET a path of the HTTP API; prints the body, fails unless the answer is 2xx.
prometheus_get() { curl -fsS --max-time 2 "http://$HOST:$PROMETHEUS_PORT$1"; }

prometheus_ready() { port_open "$PROMETHEUS_PORT" && prometheus_get /-/ready >/dev/null; }

prometheus_start() {
  local bin
  bin=$(prometheus_bin) || die "prometheus not found (install Debian's prometheus package)"
  mkdir -p "$PM_DIR" "$PM_DATA" "$PM_TARGETS"
  # Tests running as another user than the one that started the server may add targets too.
  chmod 1777 "$PM_TARGETS"
  # Targets left by tests of an earlier run that were killed before removing theirs.
  rm -f "$PM_TARGETS"/*.json
  touch "$PM_LOG"
  cat >"$PM_CONF" <<CONF
# written by scripts/services
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sluice-test
    file_sd_configs:
      - files: ['$PM_TARGETS/*.json']
        refresh_interval: 1s
CONF
  log "prometheus: starting on $HOST:$PROMETHEUS_PORT, targets from $PM_TARGETS/*.json (log $PM_LOG)"
  setsid bash -c 'echo $$ >"$0"; exec "$1" --config.file="$2" --storage.tsdb.path="$3" \
      --storage.tsdb.retention.time=1d --web.listen-address="$4" --web.enable-lifecycle' \
    "$PM_PID" "$bin" "$PM_CONF" "$PM_DATA" "$HOST:$PROMETHEUS_PORT" </dev/null >>"$PM_LOG" 2>&1 9>&- &
  wait_for "Prometheus on $HOST:$PROMETHEUS_PORT" "$PM_LOG" "$PM_PID" prometheus prometheus_ready
}

# Ready, and reading its targets from our directory (a Prometheus of someone else's on the port would not).
prometheus_verify() {
  wait_for "Prometheus on $HOST:$PROMETHEUS_PORT" "$PM_LOG" "" "" prometheus_ready
  prometheus_get /api/v1/status/config | grep -qF "$PM_TARGETS/*.json" \
    || die "Prometheus on $HOST:$PROMETHEUS_PORT does not read its targets from $PM_TARGETS/*.json; stop it or set SLUICE_PROMETHEUS_PORT"
}

prometheus_stop() { kill_pidfile prometheus "$PM_PID" prometheus; }

prometheus_export() {
  echo "export SLUICE_TEST_PROMETHEUS_URL=http://$HOST:$PROMETHEUS_PORT"
  echo "export SLUICE_TEST_PROMETHEUS_TARGETS_DIR=$PM_TARGETS"
}
