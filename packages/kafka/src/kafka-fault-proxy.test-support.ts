import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy in front of a private broker that injects faults into the Kafka protocol stream. */
export interface KafkaFaultProxy {
  readonly port: number;
  /**
   * Corrupts the record batch of each client's first produce request for each partition of topics whose name
   * starts with `prefix` (one bit of the batch's CRC-32C is flipped), so the broker refuses that request with
   * CORRUPT_MESSAGE, a retriable error: nothing of it is stored. Later requests pass untouched. `undefined`
   * stops it.
   */
  corruptFirstProduce(prefix: string | undefined): void;
  /** Produce batches corrupted so far. */
  readonly corrupted: number;
  /** Holds every response from the broker for `ms` before passing it on (0: none). */
  delayResponses(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy on `port` (loopback) that forwards to `127.0.0.1:upstreamPort`. Requests are parsed as Kafka
 * frames (a 4-byte size, then the request); only produce requests of protocol version 9 to 12 (flexible
 * encoding, topics by name: librdkafka 2.x sends version 10) are inspected, everything else passes byte for
 * byte. The broker must advertise the proxy's port, so clients connect through it after the bootstrap.
 */
export async function startKafkaFaultProxy(port: number, upstreamPort: number): Promise<KafkaFaultProxy> {
  let prefix: string | undefined;
  let delayMs = 0;
  let corrupted = 0;
  const sockets = new Set<Socket>();

  /** `done`: the partitions whose first request on this connection (one client's) was corrupted already. */
  const rewrite = (frame: Buffer, done: Set<string>): void => {
    if (prefix === undefined || frame.readInt16BE(4) !== 0) return; // not a produce request
    const version = frame.readInt16BE(6);
    if (version < 9 || version > 12) return;
    for (const batch of producePartitions(frame)) {
      if (!batch.topic.startsWith(prefix)) continue;
      const id = `${batch.topic}\u0000${batch.partition}`;
      if (done.has(id) || batch.records.length < 21) continue;
      done.add(id);
      // RecordBatch: baseOffset(8) batchLength(4) partitionLeaderEpoch(4) magic(1) crc(4): flip a bit of the crc.
      frame[batch.records.start + 20]! ^= 0x01;
      corrupted++;
    }
  };

  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    const done = new Set<string>();
    client.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(0, 4 + size));
        pending = pending.subarray(4 + size);
        try {
          rewrite(frame, done);
        } catch {
          // A frame this parser does not follow passes unchanged.
        }
        upstream.write(frame);
      }
    });
    upstream.on('data', (chunk) => {
      if (delayMs === 0) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), delayMs);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    corruptFirstProduce(p) {
      prefix = p;
    },
    get corrupted() {
      return corrupted;
    },
    delayResponses(ms) {
      delayMs = ms;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One partition's records in a produce request: where its record batch bytes are in the frame. */
interface ProducePartition {
  readonly topic: string;
  readonly partition: number;
  readonly records: { readonly start: number; readonly length: number };
}

/** The partitions of a flexible-version (9-12) produce request frame, with the place of their record batches. */
function producePartitions(frame: Buffer): ProducePartition[] {
  const r = new Reader(frame, 4 + 8); // size, api key, api version, correlation id
  r.skip(r.int16()); // client id (nullable string; -1 reads as no bytes)
  r.taggedFields(); // request header v2
  r.compactBytes(); // transactional id
  r.skip(2 + 4); // acks, timeout
  const out: ProducePartition[] = [];
  for (let t = r.uvarint() - 1; t > 0; t--) {
    const topic = r.compactString();
    for (let p = r.uvarint() - 1; p > 0; p--) {
      const partition = r.int32();
      const length = r.uvarint() - 1;
      out.push({ topic, partition, records: { start: r.at, length: Math.max(length, 0) } });
      r.skip(Math.max(length, 0));
      r.taggedFields();
    }
    r.taggedFields();
  }
  return out;
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public at: number,
  ) {}
  int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  skip(n: number): void {
    if (n > 0) this.at += n;
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.buf[this.at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  }
  compactBytes(): void {
    this.skip(this.uvarint() - 1);
  }
  compactString(): string {
    const n = this.uvarint() - 1;
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
  taggedFields(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint(); // tag
      this.skip(this.uvarint()); // size, data
    }
  }
}
