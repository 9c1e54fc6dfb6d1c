// @sluice/server: Sluice as a service (`sluice run`): declared pipelines, health, metrics, logs.
export {};
