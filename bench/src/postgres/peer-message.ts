import type { TransactionalMessage } from 'pg-transactional-outbox';

/**
 * An outbox message of the peer for one of the benchmark's events, shaped as in its README (id, aggregate
 * type and id, message type, payload, createdAt); the event key is both its aggregate id and its `segment`.
 */
export function peerMessage(messageType: string, key: string, payload: unknown): TransactionalMessage {
  return {
    id: crypto.randomUUID(),
    aggregateType: 'enrollment',
    aggregateId: key,
    messageType,
    segment: key,
    payload,
    createdAt: new Date().toISOString(),
  };
}
