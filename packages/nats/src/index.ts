export type { NatsTransportOptions, ResolvedNatsOptions } from './nats-options.js';
export { createNatsTransport, NatsTransport } from './nats-transport.js';
