import { createClient } from '@redis/client';
import type { BenchTarget } from './bench-target.js';
import { publishWindow } from './publish-window.js';
import type { RawClient } from './raw-client.js';
import { serviceUrl } from './service-url.js';

/**
 * Redis Streams (scripts/services' Redis, AOF with appendfsync always). Raw baseline: a stream per partition,
 * XADDs sent as pipelines of 500 (`multi().execAsPipeline()`, one write and one fsync for each) with up to 4
 * pipelines outstanding; one consumer group read with XREADGROUP (COUNT 1000 per stream), each entry's value
 * parsed (JSON.parse), and XACK of every batch.
 */
export const redisTarget: BenchTarget = {
  kind: 'redis',
  name: 'redis',
  url: () => serviceUrl('redis', 'SLUICE_TEST_REDIS_URL'),
  async openRaw(namespace, partitions): Promise<RawClient> {
    const client = createClient({ url: redisTarget.url() });
    await client.connect();
    const keys = Array.from({ length: partitions }, (_, p) => `${namespace}:raw:${p}`);
    return {
      async publish(records) {
        const batches: (typeof records)[] = [];
        for (let i = 0; i < records.length; i += 500) batches.push(records.slice(i, i + 500));
        await publishWindow(batches, 4, (batch) => {
          const pipeline = client.multi();
          for (const r of batch)
            pipeline.xAdd(keys[r.partition]!, '*', { id: r.id, key: r.key, value: r.value });
          return pipeline.execAsPipeline();
        });
      },
      async consume(count) {
        for (const key of keys) await client.xGroupCreate(key, 'raw', '0', { MKSTREAM: true });
        let n = 0;
        let firstAt = 0;
        while (n < count) {
          const reply = await client.xReadGroup(
            'raw',
            'raw-1',
            keys.map((key) => ({ key, id: '>' })),
            { COUNT: 1000, BLOCK: 100 },
          );
          const acks: Promise<unknown>[] = [];
          const streams = (reply ?? []) as {
            name: string;
            messages: { id: string; message: Record<string, string> }[];
          }[];
          for (const stream of streams) {
            if (firstAt === 0 && stream.messages.length > 0) firstAt = performance.now();
            for (const m of stream.messages) JSON.parse(m.message['value']!);
            const ids = stream.messages.map((m) => m.id);
            n += ids.length;
            if (ids.length > 0) acks.push(client.xAck(stream.name, 'raw', ids));
          }
          await Promise.all(acks);
        }
        return firstAt;
      },
      async close() {
        if (keys.length > 0) await client.del(keys);
        await client.close();
      },
    };
  },
};
