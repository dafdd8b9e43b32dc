import { describe, expect, it } from 'vitest';
import { createAlert, deleteAlert, listAlerts, updateAlert } from '../../functions/providers/service/alerts.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../functions/providers/service/api-keys.js';
import { getOrgQuota, getQuota, putQuota } from '../../functions/providers/service/quotas.js';
import { usageReport } from '../../functions/providers/service/usage.js';
import type { Tenant } from '../../functions/shared/http/index.js';
import { createTestDatabase, inRolledBackTenant } from '../support/db.js';
import { createTeam } from '../support/tenants.js';

/**
 * The providers management services called as a route calls them, (tx, tenant, input) inside the
 * route's one transaction — here one that is always rolled back: several services in one transaction
 * see each other's writes, refusals are the catalog's problems, and nothing is left behind.
 */
const { database } = await createTestDatabase();
const { admin, member } = await createTeam(database, { admin: 'admin', member: 'member' });
const asAdmin: Tenant = { orgId: admin.orgId, userId: admin.userId, role: 'admin' };
const asMember: Tenant = { orgId: member.orgId, userId: member.userId, role: 'member' };

const rows = async (table: string) => (await database.pool!.query(`SELECT count(*)::int AS n FROM providers.${table} WHERE org_id = $1`, [admin.orgId])).rows[0].n;

describe('quotas', () => {
  it('a new limit and the quota read back in one transaction; If-Match, role and tenant rules; rolled back', async () => {
    const read = await inRolledBackTenant(database, asAdmin, async (tx, t) => {
      const put = await putQuota(tx, t, { subject: { type: 'user', id: member.userId }, limits: { daily_token_limit: 1_000 } });
      await putQuota(tx, t, { subject: { type: 'org', id: t.orgId }, limits: { monthly_cost_limit_micros: 5_000_000 }, expected: 0 });
      return { put, user: await getQuota(tx, t, member.userId), org: await getOrgQuota(tx, t) };
    });
    expect(read.put.version).toBe(1);
    expect(read.user).toMatchObject({ user_id: member.userId, version: 1, daily: { token_limit: 1_000, tokens_used: 0 }, organization: { monthly: { cost_limit_micros: 5_000_000 } } });
    expect(read.org.version).toBe(1);
    expect(await rows('user_quotas')).toBe(0);

    await expect(inRolledBackTenant(database, asMember, (tx, t) => putQuota(tx, t, { subject: { type: 'user', id: t.userId }, limits: {} }))).rejects.toMatchObject({ status: 403 });
    await expect(inRolledBackTenant(database, asAdmin, (tx, t) => putQuota(tx, t, { subject: { type: 'org', id: t.orgId }, limits: {}, expected: 3 }))).rejects.toMatchObject({ status: 412 });
    // Another user's quota: 404 for a member, and for an admin when the user is not in the org.
    await expect(inRolledBackTenant(database, asMember, (tx, t) => getQuota(tx, t, admin.userId))).rejects.toMatchObject({ status: 404 });
    const stranger = { ...asAdmin, orgId: (await createTeam(database, { other: 'admin' })).other.orgId };
    await expect(inRolledBackTenant(database, stranger, (tx, t) => getQuota(tx, t, member.userId))).rejects.toMatchObject({ status: 404 });
  });
});

describe('alerts', () => {
  it('create, re-arm on a changed rule, stale If-Match, a webhook without target; rolled back', async () => {
    const after = await inRolledBackTenant(database, asAdmin, async (tx, t) => {
      const alert = await createAlert(tx, t, { threshold_percent: 80, period: 'daily', metric: 'tokens', channel: 'log', scope: 'org' });
      const updated = await updateAlert(tx, t, { id: alert.id, expected: alert.version, patch: { threshold_percent: 90 } });
      await expect(deleteAlert(tx, t, { id: alert.id, expected: alert.version })).rejects.toMatchObject({ status: 412 });
      return { alert, updated, listed: await listAlerts(tx, t, { limit: 10 }) };
    });
    expect(after.alert).toMatchObject({ scope: 'org', user_id: null, version: 1 });
    expect(after.updated).toMatchObject({ threshold_percent: 90, version: 2, last_fired_period_start: null });
    expect(after.listed.items.map((a) => a.id)).toEqual([after.alert.id]);
    expect(await rows('cost_alerts')).toBe(0);

    // A webhook needs its target, whatever channel the alert had.
    await expect(inRolledBackTenant(database, asMember, async (tx, t) => {
      const mine = await createAlert(tx, t, { threshold_percent: 50, period: 'monthly', metric: 'cost', channel: 'log' });
      return updateAlert(tx, t, { id: mine.id, expected: mine.version, patch: { channel: 'webhook' } });
    })).rejects.toMatchObject({ status: 400, code: 'missing-target' });
  });
});

describe('API keys', () => {
  it('created (shown once), listed without the key, revoked once; rolled back', async () => {
    const out = await inRolledBackTenant(database, asMember, async (tx, t) => {
      const created = await createApiKey(tx, t, { name: 'ci', scopes: ['chat', 'chat'] });
      const listed = await listApiKeys(tx, t, { limit: 10 });
      await revokeApiKey(tx, t, created.id);
      await expect(revokeApiKey(tx, t, created.id)).rejects.toMatchObject({ status: 404 });
      return { created, listed };
    });
    expect(out.created.key).toMatch(/^llk_[A-Za-z0-9]{12}_/);
    expect(out.created.scopes).toEqual(['chat']);
    expect(JSON.stringify(out.listed)).not.toContain(out.created.key);
    expect(await rows('api_keys')).toBe(0);
    await expect(inRolledBackTenant(database, asMember, (tx, t) => createApiKey(tx, t, { name: 'old', expires_at: '2000-01-01T00:00:00Z' })))
      .rejects.toMatchObject({ status: 400, code: 'invalid-expiry' });
  });
});

describe('usage', () => {
  it('an empty report for a new user; a reversed range and another user for a member are refused', async () => {
    const report = await inRolledBackTenant(database, asMember, (tx, t) => usageReport(tx, t, { group_by: 'day', from: '2026-01-01', to: '2026-01-31' }));
    expect(report).toMatchObject({ user_id: member.userId, items: [], totals: { requests: 0, cost_micros: 0 } });
    await expect(inRolledBackTenant(database, asMember, (tx, t) => usageReport(tx, t, { group_by: 'day', from: '2026-02-01', to: '2026-01-01' })))
      .rejects.toMatchObject({ status: 400, code: 'invalid-range' });
    await expect(inRolledBackTenant(database, asMember, (tx, t) => usageReport(tx, t, { group_by: 'model', user_id: admin.userId }))).rejects.toMatchObject({ status: 404 });
  });
});
