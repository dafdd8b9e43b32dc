import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluateCostAlerts } from '../../functions/providers/service/maintenance.js';
import { channelNotifier, logNotifier, verifySignature, webhookNotifier } from '../../functions/shared/notify/index.js';
import { periodsAt, reserveIn, reserveTx, settle } from '../../functions/providers/service/quota.js';
import { createUrlGuard } from '../../functions/providers/service/ssrf.js';
import { rootLogger } from '../../functions/shared/http/index.js';
import { listen } from '../support/app.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant } from '../support/tenants.js';
import { setLimits } from '../support/gateway.js';

const { database } = await createTestDatabase();

describe('cost alerts', () => {
  it('fire once per period through a signed webhook when the threshold is crossed', async () => {
    const received: { body: string; ts: string; sig: string }[] = [];
    const server = await listen(createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      received.push({ body, ts: String(req.headers['x-lattice-timestamp']), sig: String(req.headers['x-lattice-signature']) });
      res.end('ok');
    }));
    try {
      const t = await createTenant(database, { role: 'member' });
      await setLimits(database, t.orgId, t.userId, { daily_token_limit: 1000 });
      await database.pool!.query(
        `INSERT INTO providers.cost_alerts (org_id, user_id, threshold_percent, period, metric, channel, target) VALUES ($1, $2, 50, 'daily', 'tokens', 'webhook', $3)`,
        [t.orgId, t.userId, `${server.url}/hook`]);
      const tenant = { orgId: t.orgId, userId: t.userId };
      const periods = periodsAt(new Date());
      const spend = async (tokens: number) => {
        const requestId = randomUUID();
        await reserveTx(database, tenant, periods, (q) => reserveIn(q, tenant, periods, { requestId, tokens, costMicros: 0, ttlSeconds: 60 }));
        await settle(database, tenant, { requestId, provider: 'openai', model: 'm', promptTokens: tokens, completionTokens: 0, costMicros: 0, latencyMs: 1, status: 200, stream: false, keySource: 'platform' });
      };
      const secret = 'test-webhook-secret-0123456789-abcdef';
      const notifier = channelNotifier({ webhook: webhookNotifier({ secret, guard: createUrlGuard({ production: false }) }), log: logNotifier(rootLogger) });
      await spend(400);
      expect(await evaluateCostAlerts(database, notifier)).toEqual({ fired: 0 });
      await spend(200);
      const results = await Promise.all([evaluateCostAlerts(database, notifier), evaluateCostAlerts(database, notifier)]);
      expect(results.reduce((s, r) => s + r.fired, 0)).toBe(1);
      await spend(100);
      expect(await evaluateCostAlerts(database, notifier)).toEqual({ fired: 0 });
      expect(received).toHaveLength(1);
      const [hit] = received;
      expect(verifySignature(secret, Number(hit!.ts), hit!.body, hit!.sig)).toBe(true);
      expect(verifySignature(secret, Number(hit!.ts), hit!.body.replace('600', '601'), hit!.sig)).toBe(false);
      expect(JSON.parse(hit!.body).data).toMatchObject({ metric: 'tokens', period: 'daily', used: 600, limit: 1000, percent: 60, threshold_percent: 50 });
    } finally {
      await server.close();
    }
  });
});
