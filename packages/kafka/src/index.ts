export type { KafkaClientKind, KafkaTransportOptions, ResolvedKafkaOptions } from './kafka-options.js';
export { createKafkaTransport, KafkaTransport } from './kafka-transport.js';
