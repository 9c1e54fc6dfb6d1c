import { runTransportConformance } from '@sluice/testing';
import { createMemoryTransport, type MemoryTransport } from './memory-transport.js';

const sessionTimeoutMs = 300;
const tombstoneRetentionMs = 300;

runTransportConformance(
  'memory',
  async () => {
    const transport = createMemoryTransport({ sessionTimeoutMs, tombstoneRetentionMs });
    return {
      transport,
      connect: async () => transport.connect(),
      crash: async (t) => (t as MemoryTransport).abandon(),
      // The memory transport keeps records as it was given them (no binding): what it holds is what it returns.
      readRaw: {
        binding: 'layout' as const,
        read: async (topic: string) =>
          (await transport.read(topic, { to: 'earliest' }, 100_000)).flatMap((r) =>
            r.value === null ? [] : [{ key: r.key, value: r.value, headers: r.headers }],
          ),
      },
      cleanup: async () => {},
    };
  },
  { sessionTimeoutMs, tombstoneRetentionMs, durable: false },
);
