import type { GeneralMessageHandler, StoredTransactionalMessage } from 'pg-transactional-outbox';
import type { LogBatcher } from './log-batcher.js';
import { wallClock } from './wall-clock.js';

/**
 * The peer listener's message handler, doing the work of Sluice's relay: it publishes each message to the
 * embedded log (the same transport Sluice's relay writes, batched across concurrent handler calls by
 * `batcher`). Calls `arrived` with the message and the wall-clock time on entry.
 */
export function peerHandler(
  batcher: LogBatcher,
  arrived: (message: StoredTransactionalMessage, at: number) => void,
): GeneralMessageHandler {
  return {
    handle: async (message) => {
      arrived(message, wallClock());
      await batcher.publish({
        topic: 'enrollments',
        key: message.aggregateId,
        value: JSON.stringify(message),
        id: message.id,
      });
    },
  };
}
