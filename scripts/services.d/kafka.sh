# shellcheck shell=bash
# Kafka for scripts/services: a single KRaft node (broker and controller in one process) of Apache Kafka,
# from the broker jars on Maven Central (fetched once with the machine's Maven), run with the machine's
# Java 17, on 127.0.0.1 only. Started only when named: `scripts/services kafka`.
#   SLUICE_KAFKA_PORT=59092 (clients), SLUICE_KAFKA_CONTROLLER_PORT=59093 (the KRaft controller)
#   exports SLUICE_TEST_KAFKA_BROKERS=127.0.0.1:59092

KAFKA_VERSION=4.4.0
KAFKA_PORT=${SLUICE_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=${SLUICE_KAFKA_CONTROLLER_PORT:-59093}
KF_DIR=$STATE/kafka
KF_LIBS=$KF_DIR/libs-$KAFKA_VERSION
KF_DATA=$KF_DIR/data
KF_CONF=$KF_DIR/server.properties
KF_PID=$KF_DIR/kafka.pid
KF_LOG=$KF_DIR/kafka.log
KF_CHECK=$(dirname "${BASH_SOURCE[0]}")/kafka-check.cjs

kafka_port() { echo "$KAFKA_PORT"; }

kafka_need() {
  need openjdk-17-jre-headless command -v java
  need maven command -v mvn
}

# The broker's jars and their runtime dependencies, once per version.
kafka_fetch() {
  [[ -f $KF_LIBS/.complete ]] && return 0
  log "kafka: fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
  local pom=$KF_DIR/pom
  rm -rf "$KF_LIBS" "$pom"
  mkdir -p "$pom" "$KF_LIBS"
  cat >"$pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sluice</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
  </dependencies>
</project>
POM
  (cd "$pom" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KF_LIBS") \
    >>"$KF_LOG" 2>&1 9>&- || { log_tail "$KF_LOG"; die "kafka: fetching the broker jars with Maven failed; see $KF_LOG"; }
  touch "$KF_LIBS/.complete"
}

kafka_start() {
  mkdir -p "$KF_DIR" "$KF_DATA"
  touch "$KF_LOG"
  kafka_fetch
  cat >"$KF_CONF" <<CONF
# written by scripts/services
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KF_DATA
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
CONF
  if [[ ! -s $KF_DATA/meta.properties ]]; then
    log "kafka: formatting $KF_DATA"
    java -cp "$KF_LIBS/*" kafka.tools.StorageTool format -t c2x1aWNlLXRlc3QtMDAwMQ -c "$KF_CONF" \
      >>"$KF_LOG" 2>&1 9>&- || { log_tail "$KF_LOG"; die "kafka: formatting its storage failed; see $KF_LOG"; }
  fi
  log "kafka: starting on $HOST:$KAFKA_PORT, controller $HOST:$KAFKA_CONTROLLER_PORT (log $KF_LOG)"
  setsid bash -c 'echo $$ >"$0"; exec java -Xms256m -Xmx512m -cp "$1/*" kafka.Kafka "$2"' \
    "$KF_PID" "$KF_LIBS" "$KF_CONF" </dev/null >>"$KF_LOG" 2>&1 9>&- &
  wait_for "Kafka on $HOST:$KAFKA_PORT" "$KF_LOG" "$KF_PID" kafka.Kafka kafka_ready
}

# Answers a metadata request (the port alone opens before the broker has joined its controller).
kafka_ready() { port_open "$KAFKA_PORT" && node "$KF_CHECK" "$HOST:$KAFKA_PORT"; }

kafka_verify() { wait_for "Kafka on $HOST:$KAFKA_PORT" "$KF_LOG" "" "" kafka_ready; }

kafka_stop() { kill_pidfile kafka "$KF_PID" kafka.Kafka; }

kafka_export() { echo "export SLUICE_TEST_KAFKA_BROKERS=$HOST:$KAFKA_PORT"; }
