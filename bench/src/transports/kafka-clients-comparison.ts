import type { BenchResult } from '../report.js';

/**
 * Sluice's Kafka transport on `@platformatic/kafka` (pure JavaScript) as ratios to the same transport on
 * librdkafka, from the `kafka-*` and `kafka-native-*` results of the same run. The pure-JavaScript client is
 * the default unless a rate falls under 0.85 of the native one's.
 */
export function kafkaClientsComparison(results: ReadonlyMap<string, BenchResult>): BenchResult {
  const figure = (name: string, key: string) => results.get(name)?.figures[key] ?? Number.NaN;
  const js = (key: string) => figure('kafka-throughput', key);
  const native = (key: string) => figure('kafka-native-throughput', key);
  const jsLatency = (key: string) => figure('kafka-latency-1000', key);
  const nativeLatency = (key: string) => figure('kafka-native-latency-1000', key);
  return {
    name: 'kafka-clients',
    description:
      "Sluice's Kafka transport, @platformatic/kafka (client: 'javascript') vs librdkafka (client: 'native'), same run",
    figures: {
      'relay publish, javascript, events/s': js('sluice relay publish, events/s'),
      'relay publish, native, events/s': native('sluice relay publish, events/s'),
      'publish ratio (javascript/native)':
        js('sluice relay publish, events/s') / native('sluice relay publish, events/s'),
      'consume, javascript, events/s': js('sluice consume, events/s'),
      'consume, native, events/s': native('sluice consume, events/s'),
      'consume ratio (javascript/native)':
        js('sluice consume, events/s') / native('sluice consume, events/s'),
      'end-to-end p50 ms, javascript': jsLatency('p50 ms'),
      'end-to-end p50 ms, native': nativeLatency('p50 ms'),
      'end-to-end p99 ms, javascript': jsLatency('p99 ms'),
      'end-to-end p99 ms, native': nativeLatency('p99 ms'),
    },
  };
}
