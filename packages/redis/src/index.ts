export { REDIS_NAME } from './redis-errors.js';
export type { RedisTransportOptions, ResolvedRedisOptions } from './redis-options.js';
export type { SweepResult } from './redis-sweep.js';
export { createRedisTransport, RedisTransport } from './redis-transport.js';
