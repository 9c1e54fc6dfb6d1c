import type { OutgoingRecord, Transport } from '@sluice/core';

/** `transport`, calling `onPublished(records, now)` (epoch ms) after each publish the transport acknowledged. */
export function observedTransport(
  transport: Transport,
  onPublished: (records: readonly OutgoingRecord[], now: number) => void,
): Transport {
  return {
    name: transport.name,
    ensureTopic: (spec) => transport.ensureTopic(spec),
    publish: async (records) => {
      const acks = await transport.publish(records);
      onPublished(records, performance.timeOrigin + performance.now());
      return acks;
    },
    subscribe: (options) => transport.subscribe(options),
    resetOffsets: (group, topic, target) => transport.resetOffsets(group, topic, target),
    lag: (group, topic) => transport.lag(group, topic),
    read: (topic, target, limit) => transport.read(topic, target, limit),
    close: () => transport.close(),
  };
}
