import { sql } from 'drizzle-orm';
import { pgFromUrl } from '../../../functions/shared/db/pg.js';
import { postgresEventSink } from '../../../functions/shared/events/postgres.js';
import { rowsOf } from '../../../functions/shared/db/rows.js';
import { describeEventSink } from '../../support/contracts/event-sink.contract.js';
import { createTestDatabase } from '../../support/db.js';
import { afterAll } from 'vitest';

const { database } = await createTestDatabase();
const dead = pgFromUrl('postgres://postgres@127.0.0.1:1/nothing', { max: 1 });
afterAll(() => dead.close().catch(() => {}));

describeEventSink('postgres (analytics.*)', async () => ({
  sink: postgresEventSink(database),
  async readBack(table) {
    const result = await database.db.execute(sql`select * from ${sql.raw(`analytics.${table}`)}`);
    return rowsOf(result).map((r) => ({
      ...r,
      day: r.day instanceof Date ? r.day.toISOString().slice(0, 10) : r.day,
    }));
  },
  outage: async () => postgresEventSink(dead),
}));
