/** One versioned schema change: one statement, applied once, in version order. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
