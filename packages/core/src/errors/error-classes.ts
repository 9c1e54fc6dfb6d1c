import type { SluiceErrorCode } from './error-catalogue.js';
import { SluiceError } from './sluice-error.js';

/** One problem found by a contract's schema. */
export interface ContractIssue {
  /** Dotted field path, `(root)` for the event data itself. */
  readonly path: string;
  /** What the schema expected there, as the validator described it. */
  readonly expected: string;
  /** What came instead: its JSON type and a short rendering of the value. */
  readonly received: string;
  /** The validator's own message. */
  readonly message: string;
}

/** An event's data does not match its contract, at append time or at consume time. */
export class ContractViolationError extends SluiceError {
  readonly eventType: string;
  readonly version: number;
  readonly issues: readonly ContractIssue[];

  constructor(
    eventType: string,
    version: number,
    issues: readonly ContractIssue[],
    when: 'append' | 'consume',
  ) {
    const lines = issues.map(
      (i) => `  - at ${i.path}: expected ${i.expected}, received ${i.received} (${i.message})`,
    );
    const advice =
      when === 'append'
        ? 'Nothing was written: fix the event data, or publish a new contract version if the shape changed.'
        : 'The event was sent to the dead-letter topic; the producer published data its contract does not allow.';
    super(
      'SLUICE_CONTRACT_VIOLATION',
      `event ${eventType} v${version} violates its contract:\n${lines.join('\n')}\n${advice}`,
    );
    this.eventType = eventType;
    this.version = version;
    this.issues = issues;
  }
}

/** Bytes on the bus could not be decoded as a CloudEvents envelope. */
export class MalformedEnvelopeError extends SluiceError {
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(
      'SLUICE_MALFORMED_ENVELOPE',
      `malformed event envelope: ${reason}. The message cannot be processed; it goes to the dead-letter topic.`,
      options,
    );
  }
}

/** A Sluice table is missing or older than this version of Sluice expects. */
export class MigrationRequiredError extends SluiceError {
  constructor(what: string, options: { cause?: unknown } = {}) {
    super('SLUICE_MIGRATION_REQUIRED', `${what}: run \`sluice migrate\` or pass \`migrate: true\``, options);
  }
}

/** An option given to a Sluice component is missing or invalid. */
export class InvalidOptionError extends SluiceError {
  constructor(component: string, field: string, reason: string) {
    super('SLUICE_INVALID_OPTION', `${component}: option \`${field}\` ${reason}`);
  }
}

/** A contract was defined twice, or an event references a contract the registry does not know. */
export class ContractRegistryError<C extends SluiceErrorCode = SluiceErrorCode> extends SluiceError<C> {}

/** The transport could not do what was asked; `retryable` says whether trying again may help. */
export class TransportError<C extends SluiceErrorCode = SluiceErrorCode> extends SluiceError<C> {}

/** A payload is larger than the transport accepts. */
export class PayloadTooLargeError extends SluiceError {
  constructor(transport: string, size: number, limit: number) {
    super(
      'SLUICE_PAYLOAD_TOO_LARGE',
      `${transport}: event of ${size} bytes exceeds the limit of ${limit} bytes; keep large data elsewhere and reference it in the event`,
    );
  }
}

/** A component was used after `close()`/`stop()`. */
export class ClosedError extends SluiceError {
  constructor(component: string) {
    super('SLUICE_CLOSED', `${component} is closed; create a new one`);
  }
}
