import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { LogLevel, SluiceConfig } from '@sluice/core';
import { openConsumerRunner } from './consumer-runner.js';
import { createHttpApp } from './http-app.js';
import { type PipelineStatus, PipelineSupervisor } from './pipeline-supervisor.js';
import { openRelayRunner } from './relay-runner.js';
import { createServiceLogger, type ServiceLogger } from './service-logger.js';
import { ServiceMetrics } from './service-metrics.js';

/** Options of {@link startService} that override the config (the CLI's flags). */
export interface ServiceOptions {
  readonly port?: number;
  readonly host?: string;
  readonly logger?: ServiceLogger;
  readonly logLevel?: LogLevel;
}

/** A running service: its pipelines and its HTTP server. */
export interface SluiceService {
  /** Where the HTTP server listens, e.g. `http://127.0.0.1:9400`. */
  readonly url: string;
  readonly port: number;
  readonly logger: ServiceLogger;
  statuses(): Promise<readonly PipelineStatus[]>;
  /**
   * Stops every pipeline (each finishes what is in flight and releases its leases) within `timeoutMs`, then
   * closes the HTTP server. Resolves `true` if everything stopped in time, `false` if the bound was hit (the
   * caller exits anyway: the outbox and the committed positions are the truth, so nothing is lost).
   */
  stop(timeoutMs?: number): Promise<boolean>;
}

/**
 * Starts the pipelines of a resolved config (see `resolveConfig`), each supervised on its own, and the HTTP
 * server (`/livez`, `/readyz`, `/metrics`, `/api/status`). Resolves once the server listens; pipelines start in
 * the background (`/readyz` says when they all run).
 */
export async function startService(
  config: SluiceConfig,
  options: ServiceOptions = {},
): Promise<SluiceService> {
  const logger =
    options.logger ??
    createServiceLogger(
      options.logLevel ??
        (process.env['SLUICE_LOG_LEVEL'] as LogLevel | undefined) ??
        config.log?.level ??
        'info',
    );
  const supervisors: PipelineSupervisor[] = [];
  // Consumers' lag is read from the transport, so only for /metrics and /api/status, not for /readyz.
  const statuses = (options: { lag?: boolean } = {}) =>
    Promise.all(supervisors.map((s) => s.status(options)));
  const metrics = new ServiceMetrics(async () =>
    (await statuses({ lag: true })).map((s) => ({
      name: s.name,
      kind: s.kind,
      up: s.state === 'running',
      ready: s.ready,
      details: s.details,
      ...(s.lag === undefined ? {} : { lag: s.lag }),
    })),
  );
  for (const [name, pipeline] of Object.entries(config.pipelines)) {
    const pipelineLogger = logger.forPipeline(name, pipeline.kind);
    const ctx = { name, config, logger: pipelineLogger, metrics };
    metrics.declare(name, pipeline.kind, pipeline.kind === 'consumer' ? pipeline.group : undefined);
    supervisors.push(
      new PipelineSupervisor({
        name,
        kind: pipeline.kind,
        logger: pipelineLogger,
        metrics,
        restartDelayMs: config.restartDelayMs ?? 1000,
        open: () =>
          pipeline.kind === 'consumer' ? openConsumerRunner(ctx, pipeline) : openRelayRunner(ctx, pipeline),
      }),
    );
  }
  let stopping = false;
  const startedAt = Date.now();
  const control = async (name: string, action: 'pause' | 'resume', by: string) => {
    const s = supervisors.find((x) => x.name === name);
    if (s === undefined) return undefined;
    return action === 'pause' ? s.pause(by) : s.resume(by);
  };
  const app = createHttpApp({ statuses, control, metrics, startedAt, stopping: () => stopping });
  const host = options.host ?? config.http?.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: app.fetch, hostname: host, port: options.port ?? config.http?.port ?? 9400 },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info('service listening', { url, pipelines: supervisors.map((s) => s.name) });
  for (const s of supervisors) s.start();
  let stopped: Promise<boolean> | undefined;
  return {
    url,
    port,
    logger,
    statuses,
    stop(timeoutMs = config.shutdownTimeoutMs ?? 10_000) {
      stopped ??= (async () => {
        stopping = true;
        logger.info('service stopping', { timeoutMs });
        const all = Promise.all(supervisors.map((s) => s.stop().catch(() => undefined))).then(() => true);
        const inTime = await Promise.race([
          all,
          new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref()),
        ]);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        logger.info(
          inTime
            ? 'service stopped'
            : 'service stop bound reached; exiting with work in flight (it is re-sent on start)',
          {},
        );
        return inTime;
      })();
      return stopped;
    },
  };
}
