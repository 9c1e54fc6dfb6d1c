// Used by scripts/services.d/kafka.sh: exits 0 once the broker at argv[2] answers a metadata request.
const { Kafka } = require('@confluentinc/kafka-javascript').KafkaJS;

(async () => {
  const admin = new Kafka({ kafkaJS: { brokers: [process.argv[2]], logLevel: 0 } }).admin();
  await admin.connect();
  await admin.listTopics();
  await admin.disconnect();
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
