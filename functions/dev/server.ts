/**
 * `npm run dev`: all four functions in one local server on embedded PGlite (data in .data/),
 * migrated on start. No cloud account, no running services.
 */
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { migrateUp } from '../../scripts/db/migrator.js';
import { buildAuthApp } from '../auth/app.js';
import { buildAuthServices } from '../auth/services.js';
import { buildJobsApp } from '../jobs/app.js';
import { buildJobsServices } from '../jobs/services.js';
import { buildProjectsApp } from '../projects/app.js';
import { buildProjectsServices } from '../projects/services.js';
import { buildProvidersApp } from '../providers/app.js';
import { buildProvidersServices } from '../providers/services.js';
import { loadConfig } from '../shared/config.js';
import { openDatabase } from '../shared/db/index.js';
import { rootLogger, setLogFormat } from '../shared/http/logger.js';
import { notFoundProblem } from '../shared/http/app.js';
import { withDecodedBody } from '../shared/http/framework.js';
import { isObjectLinkPath } from '../shared/http/limits.js';
import { bootstrapFirstOrganization } from '../auth/service/bootstrap.js';

// No proxy in front of the dev server: the socket's address is the client (client-ip.ts). The embedded
// artifact store's upload and download links point back at this server's /projects.
const devBase = `http://${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? 8080}/projects`;
// A developer's terminal gets one coloured line per request; piped output (CI, a log file) stays JSON.
if (process.stdout.isTTY && process.env.LOG_FORMAT !== 'json') setLogFormat('pretty');
const config = loadConfig({ NODE_ENV: 'development', TRUSTED_PROXY_HOPS: '0', ARTIFACT_BASE_URL: devBase, ...process.env });
const database = await openDatabase(config);
const client = await database.connect();
const { applied } = await migrateUp(client);
await client.release();
if (applied.length) rootLogger.info('migrated', { applied });

const kernel = { config, database };
const first = await bootstrapFirstOrganization(database);
const FUNCTIONS = ['auth', 'projects', 'providers', 'jobs'] as const;
const root = new Hono();
root.route('/auth', buildAuthApp(() => buildAuthServices(kernel)));
root.route('/projects', buildProjectsApp(() => buildProjectsServices(kernel)));
root.route('/providers', buildProvidersApp(() => buildProvidersServices(kernel)));
root.route('/jobs', buildJobsApp(() => buildJobsServices(kernel)));
root.notFound(notFoundProblem);
root.get('/', (c) => c.json({ functions: ['/auth', '/projects', '/providers', '/jobs'], docs: FUNCTIONS.map((fn) => `/${fn}/docs`) }));

const port = Number(process.env.PORT ?? 8080);
const hostname = process.env.HOST ?? '127.0.0.1';
// The same decoded-body gate as functions-framework (framework.ts), so dev enforces the same limits,
// except on the embedded artifact store's upload links: their signature fixes the exact size and the
// store counts the bytes while they stream to disk (in production those bytes go to Cloud Storage).
const listener = getRequestListener(root.fetch);
const server = createServer((req, res) => (isObjectLinkPath(req.url ?? '/') ? void listener(req, res) : withDecodedBody(req, res, () => void listener(req, res))));
server.listen(port, hostname, () => console.log(banner(`http://${hostname}:${port}`)));

/** What a developer needs on start: where each function's API reference is, and the way in. */
function banner(base: string): string {
  const lines = [`  Lattice Lock Cloud dev server: ${base}`, '', '  API reference:'];
  for (const fn of FUNCTIONS) lines.push(`    ${fn.padEnd(10)} ${base}/${fn}/docs`);
  lines.push('');
  // The code exists only on the first start with an empty database (only its hash is stored).
  if (first) {
    lines.push(`  First start: organization "${first.organizationName}" created.`);
    lines.push(`  Invitation code for its owner: ${first.invitationCode}`);
    lines.push(`  (POST ${base}/auth/register, valid ${first.validDays} days)`);
  } else {
    lines.push('  Invitation code: shown on the first start only (an organization exists; delete .data/ to start afresh).');
  }
  return `\n${lines.join('\n')}\n`;
}
const stop = () => server.close(() => void database.close().finally(() => process.exit(0)));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
