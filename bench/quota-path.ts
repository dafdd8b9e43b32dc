import { randomBytes } from 'node:crypto';
import type { Database } from '../functions/shared/db/database.js';
import { loadConfig } from '../functions/shared/config.js';
import { periodsAt, reserveIn, reserveTx, settle } from '../functions/providers/service/quota.js';
import { createBenchDatabase } from './lib/database.js';
import { createBenchTenant, type BenchTenant } from './lib/fixtures.js';
import { runLoad } from './lib/load.js';
import { rate, ratio } from './lib/stats.js';
import { printTable, section, x } from './lib/table.js';
import { isMain } from './lib/main.js';

/**
 * Quota path: reserve + settle per second at 1, 8 and 32 concurrent clients, with the providers
 * service's own quota statements (one conditional UPDATE to reserve, one statement to settle that
 * also upserts usage_tracking and writes the request-log outbox row) against the textbook naive
 * version (SELECT the counter, check in the application, UPDATE with the computed value).
 * Then the same clients race for a limit that only half of them fit in: overspend is what was
 * granted beyond the limit, i.e. money spent upstream that the quota should have refused.
 */
const CLIENTS = [1, 8, 32];
const TOKENS = 100; // worst case reserved and actual use of every call (settled = reserved)
const COST = 50;
const THROUGHPUT = { total: (c: number) => Math.max(300, c * 60), maxMs: 6_000 };
const RACE_FITS = 50; // calls that fit in the limit
const RACE_ATTEMPTS = 100;

interface Impl {
  name: string;
  /** Prepares a fresh subject with a token limit (null = unlimited); returns one reserve+settle call. */
  subject(limit: number | null): Promise<{ call: (i: number) => Promise<boolean>; used: () => Promise<number> }>;
}

function ours(database: Database, makeTenant: () => Promise<BenchTenant>): Impl {
  return {
    name: 'ours (conditional UPDATE)',
    async subject(limit) {
      const t = await makeTenant();
      const tenant = { orgId: t.orgId, userId: t.userId };
      if (limit !== null) {
        await database.pool!.query('insert into providers.user_quotas (org_id, user_id, daily_token_limit) values ($1, $2, $3)', [t.orgId, t.userId, limit]);
      }
      const run = randomBytes(4).toString('hex');
      return {
        async call(i) {
          const requestId = `bench-${run}-${i}`;
          try {
            const periods = periodsAt(new Date());
            await reserveTx(database, tenant, periods, (q) => reserveIn(q, tenant, periods, { requestId, tokens: TOKENS, costMicros: COST, ttlSeconds: 300 }));
          } catch (err) {
            if ((err as { status?: number }).status === 429) return false;
            throw err;
          }
          await settle(database, tenant, {
            requestId, provider: 'openai', model: 'bench', promptTokens: TOKENS / 2, completionTokens: TOKENS / 2,
            costMicros: COST, latencyMs: 1, status: 200, stream: false, keySource: 'platform',
          });
          return true;
        },
        async used() {
          const { rows } = await database.pool!.query(
            `select tokens_used from providers.quota_counters where subject_type = 'user' and subject_id = $1 and period = 'daily'`,
            [t.userId],
          );
          return Number(rows[0]?.tokens_used ?? 0);
        },
      };
    },
  };
}

/** The same technique as ours reduced to one row and no bookkeeping: what the statement itself costs. */
function conditional(database: Database): Impl {
  const pool = database.pool!;
  return {
    name: 'conditional UPDATE, 1 row',
    async subject(limit) {
      const subject = randomBytes(6).toString('hex');
      await pool.query('insert into bench_naive_counters (subject, used, reserved, token_limit) values ($1, 0, 0, $2)', [subject, limit]);
      return {
        async call() {
          const r = await pool.query(
            'update bench_naive_counters set reserved = reserved + $2 where subject = $1 and (token_limit is null or used + reserved + $2 <= token_limit)',
            [subject, TOKENS],
          );
          if (r.rowCount !== 1) return false;
          await pool.query('update bench_naive_counters set used = used + $2, reserved = reserved - $2 where subject = $1', [subject, TOKENS]);
          return true;
        },
        async used() {
          const { rows } = await pool.query('select used from bench_naive_counters where subject = $1', [subject]);
          return Number(rows[0].used);
        },
      };
    },
  };
}

/** Read-then-write: each step is correct alone; concurrent ones read the same value and both pass. */
function naive(database: Database): Impl {
  const pool = database.pool!;
  return {
    name: 'naive (read, check, write)',
    async subject(limit) {
      const subject = randomBytes(6).toString('hex');
      await pool.query('insert into bench_naive_counters (subject, used, reserved, token_limit) values ($1, 0, 0, $2)', [subject, limit]);
      return {
        async call() {
          const [c] = (await pool.query('select used, reserved, token_limit from bench_naive_counters where subject = $1', [subject])).rows;
          const used = Number(c.used);
          const reserved = Number(c.reserved);
          if (c.token_limit !== null && used + reserved + TOKENS > Number(c.token_limit)) return false;
          await pool.query('update bench_naive_counters set reserved = $2 where subject = $1', [subject, reserved + TOKENS]);
          const [s] = (await pool.query('select used, reserved from bench_naive_counters where subject = $1', [subject])).rows;
          await pool.query('update bench_naive_counters set used = $2, reserved = $3 where subject = $1', [subject, Number(s.used) + TOKENS, Math.max(0, Number(s.reserved) - TOKENS)]);
          return true;
        },
        async used() {
          const { rows } = await pool.query('select used from bench_naive_counters where subject = $1', [subject]);
          return Number(rows[0].used);
        },
      };
    },
  };
}

export async function main(): Promise<void> {
  const cfg = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error' });
  const bench = await createBenchDatabase({ poolMax: Math.max(...CLIENTS) });
  try {
    const { database } = bench;
    await database.pool!.query('create table bench_naive_counters (subject text primary key, used bigint not null, reserved bigint not null, token_limit bigint)');
    const impls = [ours(database, () => createBenchTenant(database, cfg)), conditional(database), naive(database)];

    section('Quota path: reserve + settle');
    const speed: (string | number)[][] = [];
    for (const [k, clients] of CLIENTS.entries()) {
      const perImpl: number[] = [];
      // Rotate which implementation runs first so none always gets the warmer (or busier) machine.
      const order = impls.map((_, i) => (i + k) % impls.length);
      for (const i of order) {
        const s = await impls[i]!.subject(null);
        const r = await runLoad({ concurrency: clients, total: THROUGHPUT.total(clients), maxMs: THROUGHPUT.maxMs, warmup: clients }, (n) => s.call(n).then(() => undefined));
        if (r.errors) throw new Error(`${impls[i]!.name}: ${r.errors} errors, first: ${r.firstError}`);
        perImpl[i] = rate(r.completed, r.elapsedMs);
      }
      const [o, c, n] = perImpl as [number, number, number];
      speed.push([clients, Math.round(o), Math.round(c), Math.round(n), x(ratio(o, n)), x(ratio(c, n))]);
    }
    printTable('Throughput (no limit in the way), reserve+settle ops/s', ['clients', 'ours (product path)', 'conditional UPDATE, 1 row', 'naive read-then-write', 'ours / naive', '1-row conditional / naive'], speed, [
      `One op = reserve ${TOKENS} tokens + settle. Ours (reserveTx/reserveIn + settle from functions/providers/service/quota.ts) runs each step in a tenant transaction under RLS, charges 4 counters (user + org × day + month), records the reservation, and settles by also upserting usage_tracking and writing the request-log outbox row. The 1-row conditional UPDATE is the same technique without the bookkeeping; the naive one reads, checks in the application and writes back (4 statements, no transaction).`,
    ]);

    const race: (string | number)[][] = [];
    const limit = RACE_FITS * TOKENS;
    for (const clients of CLIENTS) {
      const row: (string | number)[] = [clients];
      for (const impl of impls) {
        const s = await impl.subject(limit);
        let granted = 0;
        const r = await runLoad({ concurrency: clients, total: RACE_ATTEMPTS, maxMs: 30_000 }, async (i) => {
          if (await s.call(i)) granted++;
        });
        if (r.errors) throw new Error(`${impl.name}: ${r.errors} errors, first: ${r.firstError}`);
        const grantedTokens = granted * TOKENS;
        row.push(granted, Math.max(0, grantedTokens - limit), grantedTokens - (await s.used()));
      }
      race.push(row);
    }
    const cols = ['ours', '1-row conditional', 'naive'].flatMap((n) => [`${n}: granted`, `${n}: overspend`, `${n}: lost`]);
    printTable(`Race for a limit of ${limit.toLocaleString('en-US')} tokens (${RACE_FITS} calls of ${TOKENS} fit, ${RACE_ATTEMPTS} attempted)`, ['clients', ...cols], race, [
      'granted = calls admitted; overspend = tokens granted beyond the limit (paid upstream, never refused); lost = tokens granted that the counter does not show (lost updates).',
    ]);
  } finally {
    await bench.drop();
  }
}

if (isMain(import.meta.url)) await main();
