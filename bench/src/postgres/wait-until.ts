import { sleep } from '@sluice/core/adapter';

/** Polls `done` every `intervalMs` until it is true (resolves true) or `timeoutMs` passed (resolves false). */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
