/**
 * The catalogue service's own table, as a legacy monolith keeps it: letter codes for states, an internal cost
 * column, a column named after the old product. Nobody may change the code that writes it; its changes are
 * captured from PostgreSQL's log instead, and never published as they are.
 */
export const legacyCoursesSql = (table: string) => `
  CREATE TABLE ${table} (
    course_code   text PRIMARY KEY,          -- 'C-101': the catalogue's course id
    name          text NOT NULL,
    state         char(1) NOT NULL,          -- 'D' draft, 'P' published, 'X' retired
    seats         int NOT NULL,
    internal_cost numeric(10, 2) NOT NULL,   -- never leaves the catalogue
    updated       timestamptz NOT NULL DEFAULT now()
  )`;

/** A row of the legacy table as change data capture sees it. */
export interface LegacyCourseRow {
  readonly course_code: string;
  readonly name: string;
  readonly state: 'D' | 'P' | 'X';
  readonly seats: number;
  readonly internal_cost: string;
}
