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
      cleanup: async () => {},
    };
  },
  { sessionTimeoutMs, tombstoneRetentionMs, durable: false },
);
