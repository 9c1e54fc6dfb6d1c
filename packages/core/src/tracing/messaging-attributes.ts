/**
 * Attribute names of Sluice's spans: OpenTelemetry's messaging semantic conventions, plus Sluice's own under
 * `sluice.*`. docs/tracing.md lists which span carries which.
 */
export const ATTR = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  consumerGroup: 'messaging.consumer.group.name',
  errorType: 'error.type',
  eventType: 'sluice.event.type',
  key: 'sluice.key',
  offset: 'sluice.offset',
  attempt: 'sluice.attempt',
  outcome: 'sluice.outcome',
} as const;

/** The value of `messaging.system` on every Sluice span. */
export const MESSAGING_SYSTEM = 'sluice';
