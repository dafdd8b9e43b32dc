/**
 * Database errors reach the logs by SQLSTATE, constraint, table and column, never with the values:
 * drizzle's DrizzleQueryError message is "Failed query: <sql>\nparams: <values>" (drizzle-orm
 * `errors.js`), and PostgreSQL's messages quote values too. The review found a failed registration's
 * email and Argon2id hash in a log line.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '../../../drizzle/schema/auth.js';
import { organizations } from '../../../drizzle/schema/projects.js';
import { withSystem } from '../../../functions/shared/db/tenant.js';
import { createLogger, redact, setLogSink } from '../../../functions/shared/http/logger.js';
import { createTestDatabase } from '../../support/db.js';

const { database } = await createTestDatabase();

async function logged(fn: () => Promise<unknown>): Promise<{ line: string; entry: any }> {
  let error: unknown;
  await fn().catch((err) => (error = err));
  expect(error).toBeInstanceOf(Error);
  const lines: string[] = [];
  const previous = setLogSink((l) => lines.push(l));
  try {
    createLogger({ function: 'test' }).error('unhandled error', { error });
  } finally {
    setLogSink(previous);
  }
  return { line: lines[0]!, entry: JSON.parse(lines[0]!) };
}

describe('database errors in logs', () => {
  const email = `Leak.Marker.${Date.now()}@example.test`;
  const hash = '$argon2id$v=19$m=65536,t=3,p=4$bWFya2VyLXNhbHQ$bWFya2VyLWhhc2gtdmFsdWUtdGhhdC1tdXN0LW5vdC1sZWFr';

  it('a unique violation is logged by code, constraint and table, without the email or the hash', async () => {
    const [org] = await withSystem(database, (tx) => tx.insert(organizations).values({ name: 'Log Org', slug: `log-${Date.now()}` }).returning());
    const row = { orgId: org!.id, email, name: 'Marker', passwordHash: hash };
    await withSystem(database, (tx) => tx.insert(users).values(row));
    const { line, entry } = await logged(() => withSystem(database, (tx) => tx.insert(users).values({ ...row, email: email.toUpperCase() })));
    expect(entry.error.database).toMatchObject({ code: '23505', constraint: 'users_email_lower_uq', table: 'users', schema: 'auth' });
    for (const value of [email, email.toUpperCase(), email.toLowerCase(), hash, 'bWFya2VyLWhhc2g', 'insert into']) expect(line).not.toContain(value);
    expect(entry.error.stack).toMatch(/^\s+at /);
  });

  it('an error quoting the input (invalid uuid) keeps the code and drops the value', async () => {
    const { line, entry } = await logged(() => withSystem(database, (tx) => tx.execute(sql`select * from auth.users where id = ${'not-a-uuid-marker-4411'}`)));
    expect(entry.error.database.code).toBe('22P02');
    expect(line).not.toContain('marker-4411');
  });

  it('a wrapped database error is recognised through its cause', async () => {
    const { line, entry } = await logged(() =>
      withSystem(database, (tx) => tx.execute(sql`select ${'wrapped-secret-9931'}::int`)).catch((cause) => {
        throw new Error('lookup failed', { cause });
      }),
    );
    expect(entry.error.database.code).toBe('22P02');
    expect(line).not.toContain('wrapped-secret-9931');
  });

  it('other errors keep their message and cause for debugging', async () => {
    const { entry } = await logged(async () => {
      throw new Error('outer', { cause: new TypeError('inner reason') });
    });
    expect(entry.error).toMatchObject({ name: 'Error', message: 'outer', cause: { name: 'TypeError', message: 'inner reason' } });
  });
});

describe('log lines with the bound fields serialised once', () => {
  const reference = (bound: Record<string, unknown>, severity: string, message: string, fields: Record<string, unknown> | undefined, time: string) =>
    JSON.stringify({ severity, message, time, ...(redact({ ...bound, ...fields }) as object) });

  it('write exactly what one JSON.stringify of the merged, redacted entry writes, secrets redacted on both sides', () => {
    const cases: [Record<string, unknown>, Record<string, unknown> | undefined][] = [
      [{}, undefined],
      [{}, { status: 200 }],
      [{ function: 'providers', requestId: 'r-1', apiKey: 'sk-bound-secret' }, undefined],
      [{ function: 'providers', requestId: 'r-1' }, { method: 'POST', latencyMs: 3, nested: { password: 'p4ss', ok: [1, { token: 't' }] }, gone: undefined }],
      [{ function: 'providers', requestId: 'r-1' }, { requestId: 'overridden', status: 500 }],
      [{ function: 'providers' }, { message: 'a field named message', time: 'a field named time' }],
      [{ 'logging.googleapis.com/trace': 'projects/p/traces/abc' }, { error: new Error('boom') }],
    ];
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'debug';
    for (const [bound, fields] of cases) {
      const lines: string[] = [];
      const previous = setLogSink((l) => lines.push(l));
      try {
        const log = createLogger({ ...bound });
        log.info('hello "world"', fields);
        log.child({ extra: 1 }).warn('child', fields);
      } finally {
        setLogSink(previous);
      }
      const timeOf = (line: string) => JSON.parse(line).time as string;
      const [own, child] = lines as [string, string];
      expect(own).toBe(reference(bound, 'INFO', 'hello "world"', fields, timeOf(own)));
      expect(child).toBe(reference({ ...bound, extra: 1 }, 'WARNING', 'child', fields, timeOf(child)));
      expect(own).not.toMatch(/sk-bound-secret|p4ss/);
    }
    process.env.LOG_LEVEL = level;
    // The level is read again when LOG_LEVEL changes: info is below the suite's level once more.
    const lines: string[] = [];
    const previous = setLogSink((l) => lines.push(l));
    createLogger().info('quiet');
    setLogSink(previous);
    expect(lines).toEqual(level === undefined || ['debug', 'info'].includes(level) ? [expect.any(String)] : []);
  });
});
