// @sluice/server: Sluice as a service (`sluice run`): declared pipelines, each supervised on its own, with
// health, readiness, Prometheus metrics, a status API and structured logs.
export { createHttpApp, type HttpSource } from './http-app.js';
export { maskSecrets } from './mask-secrets.js';
export type { PipelineReport, PipelineRunner } from './pipeline-runner.js';
export { type PipelineState, type PipelineStatus, PipelineSupervisor } from './pipeline-supervisor.js';
export { createServiceLogger, type ServiceLogger } from './service-logger.js';
export { ServiceMetrics } from './service-metrics.js';
export { type ServiceOptions, type SluiceService, startService } from './sluice-service.js';
