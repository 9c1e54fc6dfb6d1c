import { Hono } from 'hono';
import { maskValue } from './mask-secrets.js';
import type { PipelineStatus } from './pipeline-supervisor.js';
import type { ServiceMetrics } from './service-metrics.js';

/** What the HTTP endpoints read from (and ask of) the service. */
export interface HttpSource {
  /** Every pipeline's status; with `lag`, consumers' lag too (read from their transports). */
  statuses(options?: { lag?: boolean }): Promise<readonly PipelineStatus[]>;
  /** Pauses or resumes a pipeline; `undefined` when no pipeline has that name, false when not in that state. */
  control(name: string, action: 'pause' | 'resume', by: string): Promise<boolean | undefined>;
  readonly metrics: ServiceMetrics;
  readonly startedAt: number;
  /** True once SIGTERM (or `stop()`) began: readiness turns false so traffic and probes move away. */
  stopping(): boolean;
}

/**
 * The service's endpoints:
 * - `GET /livez`: 200 while the process serves requests (the event loop is not stuck).
 * - `GET /readyz`: 200 only while every pipeline is ready; 503 otherwise, the body naming each pipeline that is
 *   not and why.
 * - `GET /metrics`: Prometheus text format.
 * - `GET /api/status`: every pipeline's state, readiness, restarts, last error and figures (a consumer's group
 *   lag per topic and partition), as JSON.
 * - `POST /api/pipelines/:name/pause` and `/resume`: an operator stops or restarts one pipeline's work (logged
 *   with who: the `x-sluice-actor` header, else the client's address, and when).
 * Passwords in URLs are masked in every body.
 */
export function createHttpApp(source: HttpSource): Hono {
  const app = new Hono();
  app.get('/livez', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const statuses = await source.statuses();
    const notReady = statuses
      .filter((s) => !s.ready)
      .map((s) => ({ pipeline: s.name, state: s.state, reason: s.reason ?? s.state }));
    if (source.stopping()) return c.json({ status: 'stopping', notReady }, 503);
    if (notReady.length > 0) return c.json(maskValue({ status: 'not ready', notReady }) as object, 503);
    return c.json({ status: 'ready', pipelines: statuses.map((s) => s.name) });
  });
  app.get('/metrics', async (c) => {
    const text = await source.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': source.metrics.registry.contentType });
  });
  app.get('/api/status', async (c) => {
    const statuses = await source.statuses({ lag: true });
    return c.json(
      maskValue({
        startedAt: new Date(source.startedAt).toISOString(),
        uptimeSeconds: Math.round((Date.now() - source.startedAt) / 1000),
        stopping: source.stopping(),
        pipelines: statuses,
      }) as object,
    );
  });
  app.post('/api/pipelines/:name/:action{pause|resume}', async (c) => {
    const name = c.req.param('name');
    const action = c.req.param('action') as 'pause' | 'resume';
    const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
      ?.socket?.remoteAddress;
    const by = c.req.header('x-sluice-actor') ?? `anonymous@${remote ?? 'unknown'}`;
    const done = await source.control(name, action, by);
    if (done === undefined) return c.json({ error: `no pipeline named ${name}` }, 404);
    if (!done)
      return c.json(
        {
          error: `pipeline ${name} cannot ${action} now (it is not ${action === 'pause' ? 'running' : 'paused'})`,
        },
        409,
      );
    return c.json({ pipeline: name, action, by, at: new Date().toISOString() });
  });
  app.notFound((c) =>
    c.json({ error: `no such endpoint: ${c.req.path} (try /livez, /readyz, /metrics, /api/status)` }, 404),
  );
  return app;
}
