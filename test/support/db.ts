import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import type { Database, Tx } from '../../functions/shared/db/database.js';
import { withSystem, withTenant } from '../../functions/shared/db/tenant.js';
import type { Tenant } from '../../functions/shared/http/transactions.js';
import { adminUrl } from './global-setup.js';

export interface TestDatabase {
  name: string;
  url: string;
  database: Database;
}

/**
 * A fresh database for this test file, cloned from the migrated template and dropped after the
 * file's tests: files never share rows, and the suite can run twice against one server.
 */
export async function createTestDatabase(options: { dropAfterAll?: boolean; poolMax?: number; migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `lattice_t_${randomBytes(6).toString('hex')}`;
  const template = options.migrated === false ? 'template0' : inject('templateDatabase');
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (err) {
        // Two files cloning at the same instant may see the template "being accessed".
        if (attempt >= 20 || !/being accessed/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = adminUrl(name);
  const database = pgFromUrl(url, { max: options.poolMax ?? 10, applicationName: 'lattice-test' });
  if (options.dropAfterAll !== false) {
    afterAll(async () => {
      await database.close().catch(() => {});
      await dropTestDatabase(name);
    });
  }
  return { name, url, database };
}

export async function dropTestDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/** Thrown to end a test transaction: rollback is the point, not an error. */
class RolledBack extends Error {}

/**
 * Runs a service unit test inside one tenant transaction that is always rolled back, as a route would
 * run the service (functions/shared/http/transactions.ts), so tests leave no rows behind and can share
 * one database. Returns what `fn` returned; an error thrown by `fn` propagates.
 */
export async function inRolledBackTenant<T>(database: Database, tenant: Tenant, fn: (tx: Tx, tenant: Tenant) => Promise<T>): Promise<T> {
  let value: T | undefined;
  try {
    await withTenant(database, tenant, async (tx) => {
      value = await fn(tx, tenant);
      throw new RolledBack();
    });
  } catch (err) {
    if (!(err instanceof RolledBack)) throw err;
  }
  return value as T;
}

/** The same, as the owner role (services that run before a tenant is known). */
export async function inRolledBackSystem<T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let value: T | undefined;
  try {
    await withSystem(database, async (tx) => {
      value = await fn(tx);
      throw new RolledBack();
    });
  } catch (err) {
    if (!(err instanceof RolledBack)) throw err;
  }
  return value as T;
}
