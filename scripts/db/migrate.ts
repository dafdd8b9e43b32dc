/**
 * `npm run db:migrate` / `npm run db:rollback [steps|all]` against the configured database
 * (DATABASE_URL, INSTANCE_CONNECTION_NAME, or the embedded PGlite folder).
 */
import { loadConfig } from '../../functions/shared/config.js';
import { openDatabase } from '../../functions/shared/db/index.js';
import { migrateDown, migrateUp } from './migrator.js';

const [command = 'up', arg] = process.argv.slice(2);
const database = await openDatabase(loadConfig());
const client = await database.connect();
try {
  if (command === 'up') {
    const { applied, skipped } = await migrateUp(client);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : `up to date (${skipped.length} migrations)`);
  } else if (command === 'down') {
    const steps = arg === 'all' ? Number.POSITIVE_INFINITY : Number(arg ?? 1);
    if (!Number.isFinite(steps) && arg !== 'all') throw new Error('usage: db:rollback [steps|all]');
    const reverted = await migrateDown(client, steps);
    console.log(reverted.length ? `rolled back: ${reverted.join(', ')}` : 'nothing to roll back');
  } else {
    throw new Error(`unknown command ${command}: use up or down`);
  }
} finally {
  await client.release();
  await database.close();
}
