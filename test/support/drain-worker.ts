/**
 * A drainer in its own process, so the chaos test can SIGKILL it mid-batch (no finally blocks, no
 * lease release: exactly what a crashed Cloud Run instance leaves behind).
 * env: DATABASE_URL, BQ_URL, BQ_PROJECT, WORKER_ID, LEASE_SECONDS
 */
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import { bigQueryEventSink } from '../../functions/shared/events/bigquery.js';
import { drainOutbox } from '../../functions/shared/events/drain.js';

process.env.METADATA_SERVER_DETECTION ??= 'none';
const database = pgFromUrl(process.env.DATABASE_URL!, { max: 2 });
const sink = bigQueryEventSink({ projectId: process.env.BQ_PROJECT!, dataset: 'lattice_events', apiEndpoint: process.env.BQ_URL!, timeoutMs: 5_000 });
process.stdout.write('ready\n');
for (;;) {
  await drainOutbox(database, sink, { workerId: process.env.WORKER_ID!, leaseSeconds: Number(process.env.LEASE_SECONDS ?? 3), batchSize: 500 });
  await new Promise((r) => setTimeout(r, 50));
}
