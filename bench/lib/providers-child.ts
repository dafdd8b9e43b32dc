import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../functions/shared/config.js';
import { pgFromUrl } from '../../functions/shared/db/pg.js';
import { buildProvidersApp } from '../../functions/providers/app.js';
import { buildProvidersServices } from '../../functions/providers/services.js';
import { setLogSink } from '../../functions/shared/http/logger.js';
import { serveFunction } from '../../functions/shared/http/serve.js';

/**
 * Our providers function in its own process, as production runs it: the functions-framework
 * server (express in front of the Hono app) on loopback, pool of 10, real PostgreSQL. A process of
 * its own, like Portkey, so neither gateway shares an event loop with the load generator.
 * Log lines are built and serialised (that cost is part of the product) but not printed.
 */
const cfg = loadConfig({ ...process.env, NODE_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
let lines = 0;
setLogSink(() => void lines++);
const database = pgFromUrl(cfg.DATABASE_URL!, { max: cfg.DB_POOL_MAX, applicationName: 'lattice-bench-gateway' });
const services = await buildProvidersServices({ config: cfg, database, close: () => database.close() });
serveFunction('providers', buildProvidersApp(async () => services));
const server = getTestServer('providers');
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  void database.close().finally(() => {
    process.stderr.write(`log lines written: ${lines}\n`);
    process.exit(0);
  });
});
