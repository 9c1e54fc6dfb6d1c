import { createClient } from '@redis/client';
import type { BenchTarget } from './bench-target.js';
import { publishWindow } from './publish-window.js';
import type { RawClient } from './raw-client.js';
import { serviceUrl } from './service-url.js';

/**
 * Redis Streams (scripts/services' Redis, AOF with appendfsync always). Raw baseline: a stream per partition,
 * XADD auto-pipelined with up to 2,000 replies outstanding; one consumer group read with XREADGROUP
 * (COUNT 1000 per stream) and XACK of every batch.
 */
export const redisTarget: BenchTarget = {
  kind: 'redis',
  url: () => serviceUrl('redis', 'SLUICE_TEST_REDIS_URL'),
  async openRaw(namespace, partitions): Promise<RawClient> {
    const client = createClient({ url: redisTarget.url() });
    await client.connect();
    const keys = Array.from({ length: partitions }, (_, p) => `${namespace}:raw:${p}`);
    return {
      publish: (records) =>
        publishWindow(records, 2000, (r) =>
          client.xAdd(keys[r.partition]!, '*', { id: r.id, key: r.key, value: r.value }),
        ),
      async consume(count) {
        for (const key of keys) await client.xGroupCreate(key, 'raw', '0', { MKSTREAM: true });
        let n = 0;
        while (n < count) {
          const reply = await client.xReadGroup(
            'raw',
            'raw-1',
            keys.map((key) => ({ key, id: '>' })),
            { COUNT: 1000, BLOCK: 100 },
          );
          const acks: Promise<unknown>[] = [];
          const streams = (reply ?? []) as { name: string; messages: { id: string }[] }[];
          for (const stream of streams) {
            const ids = stream.messages.map((m) => m.id);
            n += ids.length;
            if (ids.length > 0) acks.push(client.xAck(stream.name, 'raw', ids));
          }
          await Promise.all(acks);
        }
      },
      async close() {
        if (keys.length > 0) await client.del(keys);
        await client.close();
      },
    };
  },
};
