import {
  getDisabledLogger,
  initializeMessageStorage,
  type ListenerConfig,
  type MessageStorage,
} from 'pg-transactional-outbox';

/**
 * pg-transactional-outbox's documented producer call: `initializeMessageStorage(config, logger)` gives the
 * function that inserts an outbox message in the caller's transaction (`await store(message, client)` between
 * the caller's BEGIN and COMMIT).
 */
export function peerStorage(config: Pick<ListenerConfig, 'settings' | 'outboxOrInbox'>): MessageStorage {
  return initializeMessageStorage(config, getDisabledLogger());
}
