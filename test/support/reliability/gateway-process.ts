import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { AddressInfo } from 'node:net';
import { buildProvidersApp } from '../../../functions/providers/app.js';
import { buildProvidersServices } from '../../../functions/providers/services.js';
import { loadConfig } from '../../../functions/shared/config.js';
import { pgFromUrl } from '../../../functions/shared/db/pg.js';
import { serveFunction } from '../../../functions/shared/http/serve.js';

/**
 * The providers function in a process of its own, wired as functions/providers/index.ts wires it:
 * serveFunction's SIGTERM sequence (stop admitting, drain, then services.close, which flushes the
 * settle batches) and nothing else on SIGTERM, so a test can SIGTERM or SIGKILL a real instance.
 * Only the settle batch shape comes from the environment (SETTLE_MAX_BATCH, SETTLE_MAX_WAIT_MS,
 * SETTLE_JOURNAL_WAIT_MS for leased calls' journal entries, and
 * SETTLE_IDLE_FLUSH=0 to keep a partial batch waiting even when the instance has no request in flight),
 * so a test can hold settles in the queue for as long as it needs to observe them there.
 */
const cfg = loadConfig({ ...process.env, NODE_ENV: 'test' });
const database = pgFromUrl(cfg.DATABASE_URL!, { max: 10, applicationName: process.env.APPLICATION_NAME ?? 'lattice-gateway-process' });
const services = await buildProvidersServices({ config: cfg, database, close: () => database.close() }, {
  retry: { baseDelayMs: 5, maxDelayMs: 20 },
  settleBatch: {
    maxBatch: Number(process.env.SETTLE_MAX_BATCH ?? 256), maxWaitMs: Number(process.env.SETTLE_MAX_WAIT_MS ?? 5),
    ...(process.env.SETTLE_JOURNAL_WAIT_MS ? { journalWaitMs: Number(process.env.SETTLE_JOURNAL_WAIT_MS) } : {}),
    ...(process.env.SETTLE_IDLE_FLUSH === '0' ? { busy: () => true } : {}),
  },
});
serveFunction('providers', buildProvidersApp(async () => services), services.close);
const server = getTestServer('providers');
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`));
