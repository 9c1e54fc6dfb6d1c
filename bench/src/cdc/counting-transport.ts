import type { OutgoingRecord, Transport } from '@sluice/core';

/** A transport that forwards to `bus` and reports each acknowledged batch (with the time of its ack). */
export function countingTransport(
  bus: Transport,
  onAcknowledged: (records: readonly OutgoingRecord[], at: number) => void,
): Transport {
  return {
    name: bus.name,
    ensureTopic: (spec) => bus.ensureTopic(spec),
    publish: async (records) => {
      const acks = await bus.publish(records);
      onAcknowledged(records, performance.timeOrigin + performance.now());
      return acks;
    },
    subscribe: (options) => bus.subscribe(options),
    resetOffsets: (group, topic, target) => bus.resetOffsets(group, topic, target),
    read: (topic, target, limit) => bus.read(topic, target, limit),
    close: () => bus.close(),
  };
}
