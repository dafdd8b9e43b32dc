import { createRoute, z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { inTenant, isoDay, problemResponses } from '../../shared/http/index.js';
import type { ProvidersEnv } from '../app.js';
import { usageReport } from '../service/usage.js';
import { gatewayCaller } from './auth.js';
import { json, Uuid } from './schemas.js';
import { UsageSchema } from './shapes.js';

const Day = isoDay();
const usage = createRoute({
  method: 'get',
  path: '/usage',
  ...gatewayCaller('usage'),
  request: { query: z.object({ from: Day.optional(), to: Day.optional(), group_by: z.enum(['day', 'model', 'provider']).default('day'), user_id: Uuid.optional() }) },
  responses: { 200: json(UsageSchema), ...problemResponses },
});

export function registerUsage(app: OpenAPIHono<ProvidersEnv>): void {
  app.openapi(usage, async (c) => c.json(await inTenant(c, (tx, t) => usageReport(tx, t, c.req.valid('query'))), 200));
}
