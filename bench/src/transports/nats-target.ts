import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { BenchTarget } from './bench-target.js';
import { publishWindow } from './publish-window.js';
import type { RawClient } from './raw-client.js';
import { serviceUrl } from './service-url.js';

/**
 * NATS JetStream (the single server of scripts/services). Raw baseline (connected with `noAsyncTraces`, as
 * Sluice is): one stream with a subject per
 * partition, `js.publish` with a message id and up to 2,000 acknowledgements outstanding; a durable pull
 * consumer with `AckPolicy.All`, consumed with `consume()`, each message parsed (`m.json()`), acknowledged
 * every 500 messages.
 */
export const natsTarget: BenchTarget = {
  kind: 'nats',
  name: 'nats',
  url: () => serviceUrl('nats', 'SLUICE_TEST_NATS_URL'),
  async openRaw(namespace, _partitions): Promise<RawClient> {
    const nc = await connect({ servers: natsTarget.url().replace(/^nats:\/\//, ''), noAsyncTraces: true });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = `${namespace.replace(/[^A-Za-z0-9_-]/g, '_')}_raw`;
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    return {
      publish: (records) =>
        publishWindow(records, 2000, (r) => js.publish(`${stream}.${r.partition}`, r.value, { msgID: r.id })),
      async consume(count) {
        await jsm.consumers.add(stream, {
          durable_name: 'raw',
          ack_policy: AckPolicy.All,
          deliver_policy: DeliverPolicy.All,
        });
        const consumer = await js.consumers.get(stream, 'raw');
        const messages = await consumer.consume({ max_messages: 1000 });
        let n = 0;
        let firstAt = 0;
        for await (const m of messages) {
          if (n++ === 0) firstAt = performance.now();
          m.json();
          if (n % 500 === 0 || n >= count) m.ack();
          if (n >= count) break;
        }
        await messages.close();
        return firstAt;
      },
      async close() {
        await jsm.streams.delete(stream).catch(() => undefined);
        await nc.close();
      },
    };
  },
};
