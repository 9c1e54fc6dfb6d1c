import { type BaseOptions, Reader, Writer } from '@platformatic/kafka';
import type { ResolvedKafkaOptions } from './kafka-options.js';

/**
 * `@platformatic/kafka` 1.22 reads a tagged-field section as one zigzag length and skips that many bytes, but
 * the section is a count of fields, each a tag, a size and that many bytes. Responses carrying tagged fields
 * (a produce refused with NOT_LEADER_OR_FOLLOWER names the current leader in one, as a new topic's partitions
 * start) were misread ("Out of bounds"). Later releases fix it; this reads the section as the protocol says.
 */
Reader.prototype.readTaggedFields = function readTaggedFields(this: Reader): void {
  for (let fields = this.readUnsignedVarInt(); fields > 0; fields--) {
    this.readUnsignedVarInt(); // tag
    this.skip(this.readUnsignedVarInt());
  }
};

/**
 * `@platformatic/kafka` 1.22 writes a null record key, value or header value as empty (length 0) and reads a
 * null (length -1) as empty, so it can neither write a tombstone (the null value that deletes a key of a
 * compacted topic) nor tell one from an empty value. Records are the only users of these two methods; this
 * writes and reads null as length -1, as the record format says.
 */
Writer.prototype.appendVarIntBytes = function appendVarIntBytes(
  this: Writer,
  value: Buffer | null | undefined,
): Writer {
  if (value === null || value === undefined) return this.appendVarInt(-1);
  this.appendVarInt(value.length);
  return this.append(value);
};
Reader.prototype.readVarIntBytes = function readVarIntBytes(this: Reader): Buffer {
  const length = this.readVarInt();
  if (length < 0) return null as unknown as Buffer;
  const value = this.buffer.slice(this.position, this.position + length);
  this.skip(length);
  return value;
};

/**
 * Settings every `@platformatic/kafka` client of the transport shares. The client's own retries are few and
 * short: the transport's callers (relays, consumers) retry, and a request must fail within about
 * `requestTimeoutMs` so that an unreachable broker is reported, not waited on. Troubleshooting:
 * `DEBUG=plt:kafka:*` (the `debug` namespaces `plt:kafka:protocol`, `:client`, `:producer`, `:consumer`,
 * `:admin`) writes the clients' events to stderr.
 */
export function clientOptions(options: ResolvedKafkaOptions, suffix = ''): BaseOptions {
  return {
    clientId: `${options.clientId}${suffix}`,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: Math.min(options.requestTimeoutMs, 5000),
    timeout: options.requestTimeoutMs,
    retries: 2,
    retryDelay: 100,
    metadataMaxAge: 10_000,
  };
}

/** The Kafka error code (`apiCode`) somewhere in a `@platformatic/kafka` error, or `undefined`. */
export function apiCodeOf(error: unknown): number | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): number | undefined => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    const code = (e as { apiCode?: unknown }).apiCode;
    if (typeof code === 'number' && code !== 0) return code;
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) {
      const found = visit(inner);
      if (found !== undefined) return found;
    }
    return visit((e as { cause?: unknown }).cause);
  };
  return visit(error);
}

/** The innermost messages of a `@platformatic/kafka` error (its own message says only "failed N times"). */
export function detailOf(error: unknown): string {
  const messages: string[] = [];
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || depth > 4) return;
    const inner = (e as { errors?: unknown[] }).errors;
    const cause = (e as { cause?: unknown }).cause;
    if (Array.isArray(inner) && inner.length > 0) for (const x of inner) visit(x, depth + 1);
    else if (cause !== undefined) visit(cause, depth + 1);
    else messages.push(String((e as { message?: unknown }).message ?? e));
  };
  visit(error, 0);
  return [...new Set(messages)].join('; ') || String(error);
}
