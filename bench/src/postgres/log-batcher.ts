import type { OutgoingRecord, Transport } from '@sluice/core';

/**
 * Publishes records that handlers running concurrently hand in, in one `publish` per turn of the event loop,
 * and resolves each handler's promise once its batch is durable: the peer's handler gets the same batching as
 * Sluice's relay whenever the peer runs more than one handler at a time (with one at a time, batches of one).
 */
export class LogBatcher {
  readonly #transport: Transport;
  #queue: { record: OutgoingRecord; done: () => void; failed: (error: unknown) => void }[] = [];
  #scheduled = false;
  #batches = 0;
  #records = 0;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  publish(record: OutgoingRecord): Promise<void> {
    return new Promise((done, failed) => {
      this.#queue.push({ record, done, failed });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  /** Records per publish call so far. */
  get meanBatch(): number {
    return this.#batches === 0 ? 0 : this.#records / this.#batches;
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    try {
      await this.#transport.publish(batch.map((b) => b.record));
      this.#batches++;
      this.#records += batch.length;
      for (const b of batch) b.done();
    } catch (error) {
      for (const b of batch) b.failed(error);
    }
  }
}
