import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadMigrations, migrateUp } from '../../scripts/db/migrator.js';
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import { createHash } from 'node:crypto';

/**
 * Once per run: checks PostgreSQL, migrates a template database (named by the migrations'
 * checksum, so parallel runs share it and a changed migration gets a new one), and makes sure a
 * Firestore emulator answers. Each test file then clones the template (fast) into its own database.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const FIRESTORE_DEFAULT = '127.0.0.1:8681';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    firestoreHost: string;
  }
}

let emulator: ChildProcess | undefined;

export default async function setup(project: TestProject) {
  const template = await prepareTemplate();
  const firestoreHost = await ensureFirestore();
  process.env.FIRESTORE_EMULATOR_HOST = firestoreHost;
  project.provide('templateDatabase', template);
  project.provide('firestoreHost', firestoreHost);
  return async () => {
    if (emulator?.pid) {
      try {
        process.kill(-emulator.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
}

export function adminUrl(database = 'postgres'): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Work in progress may keep schema changes in drizzle/pending/*.up.sql until they become a
 * migration; tests apply them after the migrations so that work can be tested first.
 */
async function prepareTemplate(): Promise<string> {
  const migrations = loadMigrations();
  const digest = createHash('sha256').update(migrations.map((m) => m.checksum + m.down).join('|')).digest('hex').slice(0, 12);
  const name = `lattice_tpl_${digest}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not answering at ${TEST_DATABASE_URL} (${(err as Error).message}). ` +
        'Start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start — or set TEST_DATABASE_URL.',
    );
  }
  try {
    await admin.query('select pg_advisory_lock(7243002)');
    const exists = await admin.query<{ ok: boolean }>(
      `select shobj_description(oid, 'pg_database') = 'ready' as ok from pg_database where datname = $1`,
      [name],
    );
    if (!exists.rows[0]?.ok) {
      if (exists.rows.length) await admin.query(`drop database ${name} with (force)`);
      await admin.query(`create database ${name}`);
      const database = pgFromUrl(adminUrl(name), { max: 1 });
      const client = await database.connect();
      try {
        await migrateUp(client, migrations);
      } finally {
        await client.release();
        await database.close();
      }
      await admin.query(`comment on database ${name} is 'ready'`);
    }
    await admin.query('select pg_advisory_unlock(7243002)');
  } finally {
    await admin.end();
  }
  return name;
}

async function firestoreAnswers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

async function ensureFirestore(): Promise<string> {
  const configured = process.env.FIRESTORE_EMULATOR_HOST;
  if (configured) {
    if (await firestoreAnswers(configured)) return configured;
    throw new Error(`FIRESTORE_EMULATOR_HOST=${configured} does not answer. Start it with: gcloud emulators firestore start --host-port=${configured}`);
  }
  if (await firestoreAnswers(FIRESTORE_DEFAULT)) return FIRESTORE_DEFAULT;
  emulator = spawn('gcloud', ['emulators', 'firestore', 'start', `--host-port=${FIRESTORE_DEFAULT}`], { detached: true, stdio: 'ignore' });
  emulator.on('error', () => {});
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (await firestoreAnswers(FIRESTORE_DEFAULT)) return FIRESTORE_DEFAULT;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `the Firestore emulator did not start on ${FIRESTORE_DEFAULT} within 90 s. ` +
      `Start it yourself with: gcloud emulators firestore start --host-port=${FIRESTORE_DEFAULT} (needs Java 17), then set FIRESTORE_EMULATOR_HOST.`,
  );
}
