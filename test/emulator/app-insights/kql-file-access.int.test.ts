import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileKql } from '../../../emulator/app-insights/kql/index.js';
import { kqlTables } from '../../../emulator/app-insights/tables.js';
import { startEmulator, type RunningEmulator } from '../../../emulator/testing/start-emulator.js';
import { labPost } from '../../support/lab.js';

/**
 * KQL must only ever read the store's own tables: each attempt to reach a file, another database, an extension,
 * a pragma or SQLite's catalogue is refused with a KQL error (or matches nothing), and leaves no file behind.
 */
const ESCAPE_DIR = mkdtempSync(join(tmpdir(), 'aigw-kql-escape-'));
const EVIL = join(ESCAPE_DIR, 'evil.db');

const REFUSED: Array<[string, string]> = [
  ['SQLite catalogue sqlite_master', 'sqlite_master'],
  ['SQLite catalogue sqlite_schema', 'sqlite_schema | project sql'],
  ['schema-qualified table main.customMetrics', 'main.customMetrics'],
  ['temp schema', 'temp.sqlite_master'],
  ['attached database name', 'evil.customMetrics'],
  ['bracketed sqlite_master', "['sqlite_master']"],
  ['pragma table-valued function', 'pragma_table_info("customMetrics")'],
  ['pragma as a function', 'print pragma_user_version()'],
  ['load_extension', `print load_extension("${EVIL}")`],
  ['readfile', 'print readfile("/etc/passwd")'],
  ['writefile', `print writefile("${EVIL}", "x")`],
  ['sqlite_version', 'print sqlite_version()'],
  ['ATTACH statement', `ATTACH DATABASE '${EVIL}' AS evil`],
  ['pragma statement', 'PRAGMA writable_schema = 1'],
  ['a second statement after ;', `customMetrics | take 1; ATTACH DATABASE '${EVIL}' AS evil`],
  ['externaldata', `externaldata (x:string) [@"file://${EVIL}"]`],
  ['database() of another store', 'database("other").customMetrics'],
  ['cluster()', 'cluster("https://evil").database("x").customMetrics'],
  ['management command .show', '.show tables'],
  ['management command .drop', '.drop table customMetrics'],
  ['evaluate plugin', 'customMetrics | evaluate python(typeof(*), "import os")'],
  ['a physical table not exposed as KQL', 'requests_fts'],
];

/** Text that reaches SQL only as bound parameters: the query runs and matches nothing. */
const BOUND: Array<[string, string]> = [
  ['ATTACH inside a string literal', `customMetrics | where name == "x'; ATTACH DATABASE '${EVIL}' AS evil; --" | count`],
  ['DROP inside a string literal', `customMetrics | where name has "'); DROP TABLE customMetrics; --" | count`],
  ['quote in a bracketed column name', `customMetrics | extend ['a"; ATTACH DATABASE \\'${EVIL}\\' AS e; --'] = 1 | where name == "none" | count`],
];

describe('KQL file and database access attempts (real query API)', () => {
  let gw: RunningEmulator;
  let appId: string;
  beforeAll(async () => {
    gw = await startEmulator({ preset: 'token-metrics-emitting' });
    ({ appId } = await (await fetch(`${gw.url}/_emulator/appinsights`)).json());
    expect((await labPost(gw.url, gw.keyFor('subscription1'))).status).toBe(200);
  });
  afterAll(async () => {
    await gw.close();
    rmSync(ESCAPE_DIR, { recursive: true, force: true });
  });
  const query = (q: string) => fetch(`${gw.url}/v1/apps/${appId}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });

  it.each(REFUSED)('%s is refused with a KQL error: %s', async (_label, q) => {
    const res = await query(q);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('BadArgumentError');
    expect(typeof body.error.message).toBe('string');
    expect(existsSync(EVIL)).toBe(false);
  });

  it.each(BOUND)('%s stays data (bound parameter): %s', async (_label, q) => {
    const res = await query(q);
    expect(res.status).toBe(200);
    expect((await res.json()).tables[0].rows).toEqual([[0]]);
    expect(existsSync(EVIL)).toBe(false);
  });

  it('the translated SQL carries user strings only as bound parameters', () => {
    const marker = "ZZ'marker\"ZZ";
    const compiled = compileKql(`customMetrics | where name == ${JSON.stringify(marker)} or name has ${JSON.stringify(marker)} | project v = strcat(name, ${JSON.stringify(marker)})`, { tables: kqlTables('all'), nowMs: 0 });
    expect(compiled.sql).not.toContain('marker');
    expect(compiled.params.some((p) => typeof p === 'string' && p.includes('marker'))).toBe(true);
  });

  it('after all attempts the store is intact and serves the next query; no file was created', async () => {
    const res = await query("customMetrics | where name == 'Total Tokens' | count");
    expect(res.status).toBe(200);
    expect((await res.json()).tables[0].rows).toEqual([[1]]);
    expect(readdirSync(ESCAPE_DIR)).toEqual([]);
  });
});
