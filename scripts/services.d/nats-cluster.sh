# shellcheck shell=bash
# A 3-node NATS cluster with JetStream for scripts/services (`scripts/services nats-cluster`), on 127.0.0.1
# only: streams with 3 replicas survive the loss of one node. Client ports 54232-54234, cluster routes
# 56232-56234, monitoring 58232-58234 (SLUICE_NATS_CLUSTER_PORT shifts all three ranges together).
#   exports SLUICE_TEST_NATS_CLUSTER_URLS=nats://127.0.0.1:54232,nats://127.0.0.1:54233,nats://127.0.0.1:54234
# nats-server 2.9 (Debian 12) acknowledges a JetStream publish once a majority of the replicas has it in
# memory, before fsync; replication is what keeps an acknowledged event when one node dies. Newer servers
# also offer `sync_interval: always` (fsync before acknowledging).

NC_BASE=${SLUICE_NATS_CLUSTER_PORT:-54232}
NC_DIR=$STATE/nats-cluster

nc_port() { echo $((NC_BASE + $1)); }
nc_route() { echo $((NC_BASE + 2000 + $1)); }
nc_monitor() { echo $((NC_BASE + 4000 + $1)); }

nats_cluster_port() { nc_port 0; }

# Up only when every node answers: a killed node (any of the three) is started again by nats_cluster_start,
# which skips the live ones.
nats_cluster_up() {
  local i
  for i in 0 1 2; do port_open "$(nc_port "$i")" || return 1; done
}

nats_cluster_need() { need nats-server command -v nats-server; }

nats_cluster_node_ready() {
  local url="http://$HOST:$(nc_monitor "$1")/healthz"
  port_open "$(nc_port "$1")" || return 1
  if command -v curl >/dev/null; then curl -fsS --max-time 2 "$url" >/dev/null
  else timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "GET /healthz HTTP/1.0\r\n\r\n" >&3; head -n1 <&3 | grep -q " 200 "' "$HOST" "$(nc_monitor "$1")"
  fi
}

nats_cluster_ready() { nats_cluster_node_ready 0 && nats_cluster_node_ready 1 && nats_cluster_node_ready 2; }

nats_cluster_start() {
  local i routes=""
  for i in 0 1 2; do routes+="    nats-route://$HOST:$(nc_route "$i")\n"; done
  for i in 0 1 2; do
    mkdir -p "$NC_DIR/n$i/jetstream"
    touch "$NC_DIR/n$i/nats.log"
    if live_pid "$NC_DIR/n$i/nats.pid" nats-server >/dev/null; then continue; fi
    printf '%b' "# written by scripts/services
server_name: sluice-n$i
listen: \"$HOST:$(nc_port "$i")\"
http: \"$HOST:$(nc_monitor "$i")\"
pid_file: \"$NC_DIR/n$i/nats.pid\"
jetstream {
  store_dir: \"$NC_DIR/n$i/jetstream\"
}
cluster {
  name: sluice-cluster
  listen: \"$HOST:$(nc_route "$i")\"
  routes: [
$routes  ]
}
" >"$NC_DIR/n$i/nats.conf"
    log "nats-cluster: starting node $i on $HOST:$(nc_port "$i") (log $NC_DIR/n$i/nats.log)"
    spawn "$NC_DIR/n$i/nats.log" nats-server -c "$NC_DIR/n$i/nats.conf" -js
  done
  wait_for "NATS cluster on $HOST:$(nc_port 0)-$(nc_port 2)" "$NC_DIR/n0/nats.log" "$NC_DIR/n0/nats.pid" nats-server nats_cluster_ready
}

nats_cluster_verify() { wait_for "NATS cluster on $HOST:$(nc_port 0)-$(nc_port 2)" "$NC_DIR/n0/nats.log" "" "" nats_cluster_ready; }

nats_cluster_stop() {
  local i
  for i in 0 1 2; do kill_pidfile "nats-cluster node $i" "$NC_DIR/n$i/nats.pid" nats-server; done
}

nats_cluster_export() {
  echo "export SLUICE_TEST_NATS_CLUSTER_URLS=nats://$HOST:$(nc_port 0),nats://$HOST:$(nc_port 1),nats://$HOST:$(nc_port 2)"
  echo "export SLUICE_TEST_NATS_CLUSTER_DIR=$NC_DIR"
}
