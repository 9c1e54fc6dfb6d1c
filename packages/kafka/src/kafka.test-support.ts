import { randomUUID } from 'node:crypto';
import { KafkaJsAdmin } from './kafka-js-admin.js';
import { resolveKafkaOptions } from './kafka-options.js';

/** The broker of `scripts/services kafka`, as a transport URL. */
export function testBrokerUrl(): string {
  const brokers = process.env['SLUICE_TEST_KAFKA_BROKERS'];
  if (!brokers) {
    throw new Error(
      'SLUICE_TEST_KAFKA_BROKERS is not set: run `eval "$(bash scripts/services kafka)"` first (npm test does it)',
    );
  }
  return `kafka://${brokers}`;
}

/** A fresh namespace for one test case. */
export function freshNamespace(): string {
  return `sluice-test-${randomUUID().slice(0, 8)}`;
}

/** Deletes every topic and consumer group of `namespace`. */
export async function deleteNamespace(url: string, namespace: string): Promise<void> {
  const admin = new KafkaJsAdmin(resolveKafkaOptions({ url }));
  try {
    const prefix = `${namespace}.`;
    for (const topic of await admin.topicsStartingWith(prefix)) await admin.deleteTopic(topic);
    await admin.deleteGroups(await admin.groupsStartingWith(prefix)).catch(() => undefined);
  } finally {
    await admin.close();
  }
}
