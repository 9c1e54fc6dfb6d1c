import { connect } from 'node:net';

/** A topic's configuration as the broker reports it, or `undefined` when the topic does not exist. */
export type TopicConfigs = ReadonlyMap<string, string | null>;

const API_DESCRIBE_CONFIGS = 32;
const VERSION = 1;
const RESOURCE_TOPIC = 2;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/**
 * Reads a topic's configuration with one DescribeConfigs (v1) request on a short-lived connection to
 * `broker`. The `Admin` of `@platformatic/kafka` 1.22 has no DescribeConfigs, and `ensureTopic` needs the
 * topic's `cleanup.policy` and `retention.ms` to tell its kind. Resolves `undefined` for an unknown topic.
 */
export function describeTopicConfigs(
  broker: string,
  topic: string,
  timeoutMs: number,
): Promise<TopicConfigs | undefined> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon);
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`DescribeConfigs of ${topic} on ${broker} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('connect', () => socket.write(request(topic)));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const all = Buffer.concat(chunks);
      const size = all.readInt32BE(0);
      if (all.length < size + 4) return;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(parse(all.subarray(4, size + 4)));
      } catch (error) {
        reject(error);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function str(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function request(topic: string): Buffer {
  const header = Buffer.alloc(8);
  header.writeInt16BE(API_DESCRIBE_CONFIGS, 0);
  header.writeInt16BE(VERSION, 2);
  header.writeInt32BE(1, 4); // correlation id
  const count = Buffer.alloc(4);
  count.writeInt32BE(1);
  const type = Buffer.from([RESOURCE_TOPIC]);
  const keys = Buffer.alloc(4);
  keys.writeInt32BE(-1); // every config
  const synonyms = Buffer.from([0]);
  const body = Buffer.concat([header, str('sluice'), count, type, str(topic), keys, synonyms]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function parse(buf: Buffer): TopicConfigs | undefined {
  let at = 4; // correlation id
  const int8 = () => buf.readInt8(at++);
  const int16 = () => {
    const v = buf.readInt16BE(at);
    at += 2;
    return v;
  };
  const int32 = () => {
    const v = buf.readInt32BE(at);
    at += 4;
    return v;
  };
  const nullableString = (): string | null => {
    const length = int16();
    if (length < 0) return null;
    const v = buf.toString('utf8', at, at + length);
    at += length;
    return v;
  };
  int32(); // throttle time
  const results = int32();
  if (results !== 1) throw new Error(`DescribeConfigs answered ${results} resources, expected 1`);
  const errorCode = int16();
  const errorMessage = nullableString();
  if (errorCode === UNKNOWN_TOPIC_OR_PARTITION) return undefined;
  if (errorCode !== 0)
    throw new Error(`DescribeConfigs failed with error ${errorCode}: ${errorMessage ?? ''}`);
  int8(); // resource type
  nullableString(); // resource name
  const configs = new Map<string, string | null>();
  const n = int32();
  for (let i = 0; i < n; i++) {
    const name = nullableString() ?? '';
    const value = nullableString();
    int8(); // read only
    int8(); // config source
    int8(); // sensitive
    const synonyms = int32();
    for (let j = 0; j < synonyms; j++) {
      nullableString();
      nullableString();
      int8();
    }
    configs.set(name, value);
  }
  return configs;
}
