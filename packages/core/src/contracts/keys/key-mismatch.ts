/** Where one side of a shared-key mismatch stands: a service, one of its contract versions, and the field. */
export interface KeyMismatchSide {
  /** The lock's `service`, or the name it was given (its file). */
  readonly service: string;
  /** `type vN` of the contract version. */
  readonly contract: string;
  /** The data field that carries the key. */
  readonly field: string;
  /** Whether this side declares the key (it is the contract's key) or only carries it in a field. */
  readonly as: 'key' | 'field';
}

/**
 * One disagreement on a shared key between two services (`compareSharedKeys`). `schema`: both declare the key
 * with different JSON Schemas; `description`: with different meanings; `field`: a field named like the other
 * service's key has another shape.
 */
export interface KeyMismatch {
  readonly key: string;
  readonly kind: 'schema' | 'description' | 'field';
  readonly own: KeyMismatchSide;
  readonly other: KeyMismatchSide;
  /** What differs, e.g. `/pattern: "^C-\\d{1,6}$" vs "^C-\\d+$"` (own vs other). */
  readonly difference: string;
  /** One line naming both sides, the key, the difference and what to do. */
  readonly message: string;
}
