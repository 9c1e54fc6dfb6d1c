import type { Logger, LogLevel } from '@sluice/core';
import { type DestinationStream, type Logger as Pino, pino } from 'pino';
import { maskSecrets, maskValue } from './mask-secrets.js';

/** The service's structured log: JSON lines through pino, passwords in URLs masked in messages and fields. */
export interface ServiceLogger {
  readonly pino: Pino;
  /** The core `Logger` a pipeline's relay or consumer writes to, with `pipeline` on every line. */
  forPipeline(pipeline: string, kind: string): Logger;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger at `level` writing JSON lines to `destination` (default stdout). */
export function createServiceLogger(level: LogLevel, destination?: DestinationStream): ServiceLogger {
  const root = pino(
    { level, base: { service: 'sluice' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  const adapt = (p: Pino): Logger => {
    const write =
      (method: 'debug' | 'info' | 'warn' | 'error') =>
      (message: string, fields?: Record<string, unknown>) => {
        if (!p.isLevelEnabled(method)) return;
        p[method](fields === undefined ? {} : (maskValue(fields) as object), maskSecrets(message));
      };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
  };
  const top = adapt(root);
  return {
    pino: root,
    forPipeline: (pipeline, kind) => adapt(root.child({ pipeline, kind })),
    info: top.info,
    warn: top.warn,
    error: top.error,
  };
}
