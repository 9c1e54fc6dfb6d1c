# shellcheck shell=bash
# Kafka for scripts/services: a single KRaft node (broker and controller in one process) of Apache Kafka,
# from the broker jars on Maven Central (fetched once with the machine's Maven), run with the machine's
# Java 17, on 127.0.0.1 only. Started only when named: `scripts/services kafka`.
#   SLUICE_KAFKA_PORT=59092 (clients), SLUICE_KAFKA_CONTROLLER_PORT=59093 (the KRaft controller)
#   SLUICE_KAFKA_ADVERTISED_PORT (default: the client port): the port the broker tells clients to use, for a
#   fault test that puts a proxy of its own on that port in front of a private broker
#   exports SLUICE_TEST_KAFKA_BROKERS=127.0.0.1:59092

KAFKA_VERSION=4.4.0
KAFKA_LOG4J_VERSION=2.25.5
KAFKA_SLF4J_VERSION=2.0.17
KAFKA_PORT=${SLUICE_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=${SLUICE_KAFKA_CONTROLLER_PORT:-59093}
KAFKA_ADVERTISED_PORT=${SLUICE_KAFKA_ADVERTISED_PORT:-$KAFKA_PORT}
KF_DIR=$STATE/kafka
KF_LIBS=$KF_DIR/libs-$KAFKA_VERSION
KF_DATA=$KF_DIR/data
KF_CONF=$KF_DIR/server.properties
KF_LOG4J=$KF_DIR/log4j2.properties
KF_PID=$KF_DIR/kafka.pid
KF_LOG=$KF_DIR/kafka.log
KF_CHECK=$(dirname "${BASH_SOURCE[0]}")/kafka-check.mjs

kafka_port() { echo "$KAFKA_PORT"; }

kafka_need() {
  need openjdk-17-jre-headless command -v java
  need maven command -v mvn
}

# The broker's jars and their runtime dependencies, once per pom (a changed pom fetches again). The broker
# logs through SLF4J; log4j-slf4j2-impl (with slf4j-api 2, which Kafka's 1.7 calls work with) sends that to
# log4j2 and so to $KF_LOG; without a binding the broker logs nothing at all.
kafka_pom() {
  cat <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sluice</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$KAFKA_SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$KAFKA_LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
  </dependencies>
</project>
POM
}

kafka_fetch() {
  local pom=$KF_DIR/pom
  kafka_pom | cmp -s - "$KF_LIBS/.complete" && return 0
  log "kafka: fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
  rm -rf "$KF_LIBS" "$pom"
  mkdir -p "$pom" "$KF_LIBS"
  kafka_pom >"$pom/pom.xml"
  (cd "$pom" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KF_LIBS") \
    >>"$KF_LOG" 2>&1 9>&- || { log_tail "$KF_LOG"; die "kafka: fetching the broker jars with Maven failed; see $KF_LOG"; }
  cp "$pom/pom.xml" "$KF_LIBS/.complete"
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
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_ADVERTISED_PORT
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
  cat >"$KF_LOG4J" <<'CONF'
# written by scripts/services: INFO to stdout (the service log), as Kafka's own config/log4j2.yaml does
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=out
CONF
  if [[ ! -s $KF_DATA/meta.properties ]]; then
    log "kafka: formatting $KF_DATA"
    java -Dlog4j2.configurationFile="$KF_LOG4J" -cp "$KF_LIBS/*" kafka.tools.StorageTool format -t c2x1aWNlLXRlc3QtMDAwMQ -c "$KF_CONF" \
      >>"$KF_LOG" 2>&1 9>&- || { log_tail "$KF_LOG"; die "kafka: formatting its storage failed; see $KF_LOG"; }
  fi
  log "kafka: starting on $HOST:$KAFKA_PORT, controller $HOST:$KAFKA_CONTROLLER_PORT (log $KF_LOG)"
  setsid bash -c 'echo $$ >"$0"; exec java -Xms256m -Xmx512m -Dlog4j2.configurationFile="$3" -cp "$1/*" kafka.Kafka "$2"' \
    "$KF_PID" "$KF_LIBS" "$KF_CONF" "$KF_LOG4J" </dev/null >>"$KF_LOG" 2>&1 9>&- &
  wait_for "Kafka on $HOST:$KAFKA_PORT" "$KF_LOG" "$KF_PID" kafka.Kafka kafka_ready
}

# Answers a metadata request (the port alone opens before the broker has joined its controller).
kafka_ready() { port_open "$KAFKA_PORT" && node "$KF_CHECK" "$HOST:$KAFKA_PORT"; }

kafka_verify() { wait_for "Kafka on $HOST:$KAFKA_PORT" "$KF_LOG" "" "" kafka_ready; }

kafka_stop() { kill_pidfile kafka "$KF_PID" kafka.Kafka; }

kafka_export() { echo "export SLUICE_TEST_KAFKA_BROKERS=$HOST:$KAFKA_PORT"; }
