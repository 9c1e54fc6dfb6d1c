/** What the binlog decoder (`@vlasky/zongji`) hands over, and which of its events a source asks for. */

/** A binlog event as the decoder hands it over (the fields this source reads). */
export interface BinlogEvent {
  getEventName(): string;
  timestamp: number;
  nextPosition: number;
  [field: string]: unknown;
}

export const EVENTS = [
  'rotate',
  'heartbeat',
  'mariadbgtid',
  'xid',
  'query',
  'xaprepare',
  'tablemap',
  'writerows',
  'updaterows',
  'deleterows',
];
export const OPERATION = { writerows: 'insert', updaterows: 'update', deleterows: 'delete' } as const;
