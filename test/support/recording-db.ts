import type { Database } from '../../functions/shared/db/index.js';

/**
 * The database as the code under test sees it, recording the text of every query its pooled connections
 * are sent (a hot-path transaction is one text: BEGIN, setup, the statement, COMMIT; see round-trip.ts).
 * For tests that count statements by their prepared names (`llc_…`).
 */
export function recordingDatabase(db: Database): { database: Database; sent: string[]; count(name: string): number } {
  const sent: string[] = [];
  const pool = db.pool!;
  const patched = new WeakSet<object>();
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'connect') return Reflect.get(target, prop, receiver);
      return async () => {
        const client = await target.connect();
        if (!patched.has(client)) {
          patched.add(client);
          const query = client.query.bind(client) as (...args: unknown[]) => unknown;
          (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
            if (typeof args[0] === 'string') sent.push(args[0]);
            return query(...args);
          };
        }
        return client;
      };
    },
  });
  const database = Object.create(db) as Database;
  Object.defineProperty(database, 'pool', { value: proxy });
  return { database, sent, count: (name) => sent.filter((s) => s.includes(`execute ${name}(`)).length };
}
