/**
 * A child process standing in for the application during a backfill benchmark: single-row updates of a table
 * at a fixed rate, each of an id no other update uses, on its own connection and event loop (so the relay's
 * work does not slow the application). Args: <url> <table> <rows> <rate>. On any message from the parent it
 * stops and sends when each update was sent: `[key, epoch ms][]`.
 */
import pg from 'pg';

const [url, table, rowsArg, rateArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const rate = Number(rateArg);
const client = new pg.Client({ connectionString: url });
await client.connect();
let live = true;
process.once('message', () => {
  live = false;
});
const committedAt: Array<[string, number]> = [];
const start = Date.now();
let n = 0;
while (live) {
  const due = start + (n * 1000) / rate;
  if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
  const id = 1 + ((n * 7919) % rows);
  n++;
  const sentAt = performance.timeOrigin + performance.now();
  await client.query(`UPDATE ${table} SET label = $2 WHERE id = $1`, [id, `live-${n}`]);
  committedAt.push([`item-${id}/live`, sentAt]);
}
await client.end();
process.send!(committedAt, () => process.exit(0));
