export type { KafkaTransportOptions, ResolvedKafkaOptions } from './kafka-options.js';
export { createKafkaTransport, KafkaTransport } from './kafka-transport.js';
