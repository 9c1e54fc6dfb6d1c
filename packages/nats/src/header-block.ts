import type { Msg } from '@nats-io/transport-node';

const HEADER_LINE = 'NATS/1.0';
const decoder = new TextDecoder();

/** The client's own fields of a received message (`MsgImpl` of @nats-io/nats-core 3.x). */
interface MsgInternals {
  readonly _msg?: { readonly hdr?: unknown };
  readonly _rdata?: unknown;
}

/**
 * A received message's header block (`NATS/1.0[ <code> <description>]\r\n<Name>: <value>\r\n...\r\n`), read
 * as one string and searched for the few headers Sluice needs.
 *
 * Why not `msg.headers`: the client decodes every header into a map of arrays, validating and trimming each,
 * which was a tenth of the CPU time of reading a partition and much of its garbage. A name matches exactly,
 * and a value is the first one, trimmed, as `MsgHdrs.get` returns it.
 */
export class HeaderBlock {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  /** The block of a received message, or `undefined` when it has none. */
  static of(msg: Msg): HeaderBlock | undefined {
    const internals = msg as unknown as MsgInternals;
    const length = internals._msg?.hdr;
    const raw = internals._rdata;
    if (typeof length === 'number' && raw instanceof Uint8Array) {
      // The client keeps the header length and the raw bytes (headers, then payload) of each message.
      return length > 0 && length <= raw.length
        ? new HeaderBlock(decoder.decode(raw.subarray(0, length)))
        : undefined;
    }
    // Another client version: through its public API (slower: the client decodes every header first).
    const text = msg.headers?.toString() ?? '';
    return text === '' ? undefined : new HeaderBlock(text);
  }

  /** The status code of a control message (404 no messages, 408 timeout, ...), or 0 for a stored message. */
  get code(): number {
    const end = this.#lineEnd(0);
    if (end <= HEADER_LINE.length) return 0;
    const code = Number.parseInt(this.text.slice(HEADER_LINE.length, end).trim(), 10);
    return Number.isNaN(code) ? 0 : code;
  }

  /** The status line after the code (`No Messages`), or ''. */
  get description(): string {
    const line = this.text.slice(HEADER_LINE.length, this.#lineEnd(0)).trim();
    const space = line.indexOf(' ');
    return space < 0 ? '' : line.slice(space + 1).trim();
  }

  /** The first value of header `name` (exact name), trimmed; '' when absent. */
  get(name: string): string {
    const { text } = this;
    let at = 0;
    for (;;) {
      at = text.indexOf(name, at + 1);
      if (at < 0) return '';
      const colon = at + name.length;
      if (text.charCodeAt(at - 1) === 10 && text.charCodeAt(at - 2) === 13 && text.charCodeAt(colon) === 58) {
        return text.slice(colon + 1, this.#lineEnd(colon)).trim();
      }
    }
  }

  #lineEnd(from: number): number {
    const end = this.text.indexOf('\r\n', from);
    return end < 0 ? this.text.length : end;
  }
}
