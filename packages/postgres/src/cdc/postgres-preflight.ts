import { errorMessage, type PreflightCheck } from '@sluice/core';
import pg from 'pg';

/** What {@link postgresPreflight} checks: the source's connection, slot, publication and tables. */
export interface PostgresPreflightTarget {
  readonly connectionString: string;
  readonly slot: string;
  readonly publication: string;
  /** Tables (`schema.table`, or `table` in `public`) the publication must cover. */
  readonly tables: readonly string[];
}

/**
 * The prerequisites of a PostgreSQL change source, read-only (catalogue queries on one connection, nothing
 * created or confirmed): `wal_level`, the role's REPLICATION, the publication and its tables, the slot and its
 * `wal_status`, and room for a WAL sender (and for the slot when it is still to be created).
 */
export async function postgresPreflight(t: PostgresPreflightTarget): Promise<PreflightCheck[]> {
  const client = new pg.Client({ connectionString: t.connectionString });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    return [{ name: 'connection', ok: false, detail: `cannot reach PostgreSQL: ${errorMessage(error)}` }];
  }
  try {
    const one = async <R>(sql: string, params: unknown[] = []) =>
      (await client.query(sql, params)).rows[0] as R | undefined;
    const checks: PreflightCheck[] = [];
    const s = (await one<{
      wal_level: string;
      max_slots: number;
      slots: number;
      max_senders: number;
      senders: number;
    }>(`SELECT current_setting('wal_level') AS wal_level,
              current_setting('max_replication_slots')::int AS max_slots,
              (SELECT count(*)::int FROM pg_replication_slots) AS slots,
              current_setting('max_wal_senders')::int AS max_senders,
              (SELECT count(*)::int FROM pg_stat_replication) AS senders`))!;
    checks.push(
      s.wal_level === 'logical'
        ? { name: 'wal_level', ok: true, detail: 'logical' }
        : {
            name: 'wal_level',
            ok: false,
            detail: `is ${s.wal_level}, not logical: set wal_level = logical (ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL`,
          },
    );
    const role = (await one<{ name: string; replication: boolean; superuser: boolean }>(
      'SELECT rolname AS name, rolreplication AS replication, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
    ))!;
    checks.push(
      role.replication || role.superuser
        ? { name: `role ${role.name}`, ok: true, detail: role.superuser ? 'superuser' : 'has REPLICATION' }
        : {
            name: `role ${role.name}`,
            ok: false,
            detail: `may not replicate: ALTER ROLE "${role.name}" REPLICATION (or connect as a role that has it)`,
          },
    );
    checks.push(await publicationCheck(client, t));
    const slot = await one<{ plugin: string; active_pid: number | null; wal_status: string | null }>(
      `SELECT plugin, active_pid, to_jsonb(s) ->> 'wal_status' AS wal_status
       FROM pg_replication_slots s WHERE slot_name = $1`,
      [t.slot],
    );
    checks.push(slotCheck(t.slot, slot));
    if (slot === undefined) {
      checks.push(
        s.slots < s.max_slots
          ? {
              name: 'max_replication_slots',
              ok: true,
              detail: `${s.slots} of ${s.max_slots} used: room for the slot`,
            }
          : {
              name: 'max_replication_slots',
              ok: false,
              detail: `all ${s.max_slots} slots are used: raise max_replication_slots (restart) or drop an unused slot before creating ${t.slot}`,
            },
      );
    }
    checks.push(
      s.senders < s.max_senders || slot?.active_pid != null
        ? { name: 'max_wal_senders', ok: true, detail: `${s.senders} of ${s.max_senders} in use` }
        : {
            name: 'max_wal_senders',
            ok: false,
            detail: `all ${s.max_senders} WAL senders are in use: raise max_wal_senders (restart) so the source can stream`,
          },
    );
    return checks;
  } catch (error) {
    return [{ name: 'catalogue', ok: false, detail: `could not read the settings: ${errorMessage(error)}` }];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function publicationCheck(client: pg.Client, t: PostgresPreflightTarget): Promise<PreflightCheck> {
  const name = `publication ${t.publication}`;
  const { rows } = await client.query<{ all: boolean }>(
    'SELECT puballtables AS all FROM pg_publication WHERE pubname = $1',
    [t.publication],
  );
  if (rows.length === 0) {
    return {
      name,
      ok: false,
      detail: `does not exist: create it (and the slot) with createChangeCapture before the first run; the source never creates it`,
    };
  }
  const published = (
    await client.query<{ t: string }>(
      "SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1",
      [t.publication],
    )
  ).rows.map((r) => r.t);
  const wanted = t.tables.map((table) => (table.includes('.') ? table : `public.${table}`));
  const missing = wanted.filter((table) => !published.includes(table));
  if (missing.length > 0) {
    return {
      name,
      ok: false,
      detail: `does not cover ${missing.join(', ')}: add them (createChangeCapture with every captured table, or ALTER PUBLICATION "${t.publication}" ADD TABLE ...)`,
    };
  }
  return {
    name,
    ok: true,
    detail: rows[0]!.all ? 'publishes all tables' : `publishes ${published.join(', ') || 'no table'}`,
  };
}

function slotCheck(
  slot: string,
  row: { plugin: string; active_pid: number | null; wal_status: string | null } | undefined,
): PreflightCheck {
  const name = `slot ${slot}`;
  if (row === undefined) {
    return {
      name,
      ok: false,
      detail:
        'does not exist: create it with createChangeCapture before the first run (the source never creates it, so a dropped slot is never silently replaced); a new slot starts at the present, so backfill what changed before',
    };
  }
  if (row.plugin !== 'pgoutput') {
    return {
      name,
      ok: false,
      detail: `uses the ${row.plugin} plugin, not pgoutput: choose another slot name`,
    };
  }
  if (row.wal_status === 'lost') {
    return {
      name,
      ok: false,
      detail:
        'was invalidated (wal_status lost): the server removed WAL it still needed, so changes may be lost. Drop it, create it again with createChangeCapture, and backfill the captured tables',
    };
  }
  const reader =
    row.active_pid === null ? '' : `; read now by pid ${row.active_pid} (this instance waits for it)`;
  const risk =
    row.wal_status === 'unreserved' ? ' (WAL it needs is past max_slot_wal_keep_size: read it soon)' : '';
  return { name, ok: true, detail: `pgoutput, wal_status ${row.wal_status ?? 'unknown'}${risk}${reader}` };
}
