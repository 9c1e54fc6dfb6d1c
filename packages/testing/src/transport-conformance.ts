import { describe, it } from 'node:test';
import type { TopicSpec, Transport } from '@sluice/core';
import type { Ctx, Factory, SuiteContext, TransportConformanceOptions } from './transport-conformance-kit.js';
import { groupsCases } from './transport-groups-cases.js';
import { lagCases } from './transport-lag-cases.js';
import { publishCases } from './transport-publish-cases.js';
import { recordsCases } from './transport-records-cases.js';
import { topicsCases } from './transport-topics-cases.js';

export type { TransportConformanceOptions, TransportHarness } from './transport-conformance-kit.js';

/**
 * The transport conformance suite: every adapter runs it against its real server. `factory` gives a transport
 * on a fresh, empty store for each case; the suite closes every transport it opened, then calls `cleanup`.
 */
export function runTransportConformance(
  name: string,
  factory: Factory,
  options: TransportConformanceOptions = {},
) {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
  const maxPayloadBytes = options.maxPayloadBytes ?? 1024 * 1024;
  const wakeLatencyMs = options.wakeLatencyMs ?? 100;
  const timeout = options.timeoutMs ?? 30_000;
  const messageRetentionMs = options.messageRetentionMs ?? 150;
  const ackedStoredBatches = options.ackedStoredBatches ?? 6;

  const test = (title: string, fn: (ctx: Ctx) => Promise<void>) =>
    // The transport in every title, so a failure in the run's summary says which transport failed.
    it(`${name}: ${title}`, { timeout }, async (context) => {
      const h = await factory();
      const ctx: Ctx = {
        h,
        t: h.transport,
        opened: [h.transport],
        skip: (reason) => context.skip(reason),
        note: (message) => context.diagnostic(message),
      };
      try {
        await fn(ctx);
      } finally {
        for (const t of ctx.opened) await t.close().catch(() => undefined);
        await h.cleanup();
      }
    });
  const ensure = (
    t: Transport,
    topic: string,
    kind: TopicSpec['kind'],
    partitions: number,
    retentionMs?: number,
  ) =>
    t.ensureTopic({ name: topic, kind, partitions, ...(retentionMs === undefined ? {} : { retentionMs }) });

  describe(`transport conformance: ${name}`, () => {
    const s: SuiteContext = {
      name,
      options,
      test,
      ensure,
      sessionTimeoutMs,
      maxPayloadBytes,
      wakeLatencyMs,
      messageRetentionMs,
      ackedStoredBatches,
    };
    publishCases(s);
    groupsCases(s);
    topicsCases(s);
    recordsCases(s);
    lagCases(s);
  });
}
