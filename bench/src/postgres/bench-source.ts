/** The CloudEvents `source` of every event the PostgreSQL benchmarks append. */
export const BENCH_SOURCE = 'urn:service:bench';
