import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SluiceError } from '../errors.js';
import type { PositionStore } from './position-store.js';

/**
 * A {@link PositionStore} in one JSON file on local disk: each save writes a temporary file, fsyncs it, renames
 * it over the old one and fsyncs the directory, so a crash leaves the old or the new positions, never half.
 * For one process (saves are serialized inside it); several processes must not share a file.
 */
export class FilePositionStore implements PositionStore {
  readonly path: string;
  #positions: Record<string, string> | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(path: string) {
    if (typeof path !== 'string' || path.length === 0) {
      throw new SluiceError('SLUICE_INVALID_OPTION', 'FilePositionStore: path must be a non-empty file path');
    }
    this.path = path;
  }

  async load(name: string): Promise<string | undefined> {
    return (await this.#all())[name];
  }

  save(name: string, position: string): Promise<void> {
    const next = this.#chain.then(async () => {
      const positions = { ...(await this.#all()), [name]: position };
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(`${JSON.stringify(positions, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.#positions = positions;
    });
    this.#chain = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {}

  async #all(): Promise<Record<string, string>> {
    if (this.#positions !== undefined) return this.#positions;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#positions = {};
        return this.#positions;
      }
      throw new SluiceError(
        'SLUICE_POSITION_STORE_UNREADABLE',
        `cannot read change positions from ${this.path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      parsed = err;
    }
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      Array.isArray(parsed) ||
      parsed instanceof Error ||
      Object.values(parsed).some((v) => typeof v !== 'string')
    ) {
      throw new SluiceError(
        'SLUICE_POSITION_STORE_CORRUPT',
        `change positions file ${this.path} is not a JSON object of strings: restore it from a backup, or delete it to start the sources as new (with an initial snapshot where they take one)`,
      );
    }
    this.#positions = parsed as Record<string, string>;
    return this.#positions;
  }
}
