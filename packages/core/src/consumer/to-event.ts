import { checkEvent, type EventContract } from '../contracts/define-event.js';
import type { Envelope } from '../envelope/envelope.js';
import type { ConsumedRecord } from '../transport/records.js';
import type { ConsumedEvent } from './handler.js';

/**
 * The event a handler receives: the contract-validated data with the envelope's attributes and position. With
 * `upcast`, the data was carried from the wire version `upcast.from` by upcasters (and validated) already.
 */
export function toEvent(
  contract: EventContract,
  envelope: Envelope,
  record: ConsumedRecord,
  upcast?: { readonly from: number; readonly data: Record<string, unknown> },
): ConsumedEvent {
  const data = upcast?.data ?? checkEvent(contract, envelope.data, 'consume').data;
  // The envelope is this consumer's own (decoded from the record just now): it takes the data handed over, and
  // keeps the wire's `dataschema`.
  const validated = envelope as Envelope<typeof data>;
  (validated as { data: unknown }).data = data;
  return {
    id: envelope.id,
    type: envelope.type,
    version: contract.version,
    ...(upcast === undefined ? {} : { upcastFrom: upcast.from }),
    key: envelope.subject,
    sequence: envelope.sluiceseq,
    sequenceKind: envelope.sluiceseqkind ?? 'position',
    source: envelope.source,
    time: envelope.time,
    data,
    envelope: validated,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
  };
}
