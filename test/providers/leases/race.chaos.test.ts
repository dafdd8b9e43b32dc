process.env.METADATA_SERVER_DETECTION ??= 'none';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEASE_POLICY, reclaimExpiredLeases } from '../../../functions/providers/service/leases/index.js';
import { createTestDatabase } from '../../support/db.js';
import { createTenant } from '../../support/tenants.js';
import { requestLogs, setLimits, usageTotals } from '../../support/gateway.js';

/**
 * The quota race across four processes (four gateway instances, each with its own leases), at 1, 8, 32
 * and 128 clients in all. Every client reserves until its first 429 and holds what it got, so the
 * exact answer is known: floor(limit / W) calls fit.
 *   - zero overspend: granted · W ≤ limit, and used + reserved + leased ≤ limit at the peak;
 *   - false 429s (calls an exact single counter would have admitted) are counted and bounded by the
 *     number of holders: at the end each holder keeps less than one call of unused allowance, and the
 *     pool less than one call (see allocator.ts), so fewer than HOLDERS · W tokens of room go unused;
 *   - every holder settles and gives back; in the last round one is stopped by SIGTERM and one is
 *     SIGKILLed holding its calls: after the expiry job, Σ usage_tracking = Σ request_logs = counter used =
 *     what the survivors billed, and nothing stays leased.
 */
const { database, url } = await createTestDatabase({ poolMax: 12 });
const HOLDERS = 4;
const W = 50;
const NOW = Date.parse('2026-06-15T12:00:00Z');

interface Child {
  proc: ChildProcess;
  /** Resolves with the JSON of the next unread line starting with `prefix`. */
  next(prefix: string): Promise<any>;
}

function startHolder(): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/support/lease-holder.ts'], {
    env: { ...process.env, DATABASE_URL: url, NOW: String(NOW) }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(buf.slice(0, i));
    wake();
  });
  proc.on('exit', wake);
  return {
    proc,
    async next(prefix) {
      for (;;) {
        const at = lines.findIndex((l) => l.startsWith(prefix));
        if (at >= 0) {
          const [line] = lines.splice(at, 1);
          return line!.length > prefix.length ? JSON.parse(line!.slice(prefix.length + 1)) : {};
        }
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`holder exited before "${prefix}"`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

// The four instances start once (process start dominates); each case is a new tenant.
let holders: Child[] = [];
beforeAll(async () => {
  holders = Array.from({ length: HOLDERS }, startHolder);
  await Promise.all(holders.map((h) => h.next('ready')));
}, 60_000);
afterAll(() => {
  for (const h of holders) if (h.proc.exitCode === null && h.proc.signalCode === null) h.proc.kill('SIGKILL');
});

async function counter(userId: string) {
  const { rows } = await database.pool!.query(
    `SELECT tokens_used::int AS used, tokens_reserved::int AS reserved, tokens_leased::int AS leased FROM providers.quota_counters WHERE subject_type = 'user' AND subject_id = $1 AND period = 'daily'`, [userId]);
  return rows[0] as { used: number; reserved: number; leased: number };
}

describe('quota leases: race across four processes', () => {
  it.each([1, 8, 32, 128])('%i clients: zero overspend, false 429s bounded, exact billing', { timeout: 60_000 }, async (clients) => {
    const t = await createTenant(database, { role: 'member' });
    const LIMIT = 40 * W + W / 2;
    await setLimits(database, t.orgId, t.userId, { daily_token_limit: LIMIT });
    const day = new Date(NOW).toISOString().slice(0, 10);
    const share = (i: number) => Math.floor(clients / HOLDERS) + (i < clients % HOLDERS ? 1 : 0);
    holders.forEach((h, i) => h.proc.stdin!.write(`go ${JSON.stringify({ orgId: t.orgId, userId: t.userId, day, month: `${day.slice(0, 7)}-01`, clients: share(i), worst: W })}\n`));
    const raced = await Promise.all(holders.map((h) => h.next('raced')));
    const granted = raced.reduce((s, r) => s + r.granted, 0);
    expect(raced.every((r) => r.bad === 0)).toBe(true);
    expect(raced.reduce((s, r) => s + r.refused, 0)).toBe(clients);

    const peak = await counter(t.userId);
    expect(granted * W).toBeLessThanOrEqual(LIMIT);
    expect(peak.used + peak.reserved + peak.leased).toBeLessThanOrEqual(LIMIT);
    const falseRefusals = Math.floor(LIMIT / W) - granted;
    const active = holders.filter((_, i) => share(i) > 0).length;
    console.log(`quota lease race, ${clients} clients over ${active} holders: granted ${granted} of the ${Math.floor(LIMIT / W)} that fit; false 429s ${falseRefusals} (bound ${active - 1})`);
    expect(falseRefusals).toBeGreaterThanOrEqual(0);
    expect(falseRefusals).toBeLessThanOrEqual(active - 1);

    // The last round ends in faults: holder 3 dies holding its calls, holder 1 is stopped by SIGTERM.
    const faults = clients === 128;
    if (faults) {
      holders[3]!.proc.kill('SIGKILL');
      holders[1]!.proc.kill('SIGTERM');
    }
    const settling = faults ? [0, 1, 2] : [0, 1, 2, 3];
    for (const i of settling) if (!(faults && i === 1)) holders[i]!.proc.stdin!.write('settle\n');
    const done = await Promise.all(settling.map((i) => holders[i]!.next('done')));
    const billed = done.reduce((s, d) => s + d.billed, 0);
    const settledCalls = done.reduce((s, d) => s + d.settled, 0);
    expect(settledCalls).toBe(granted - (faults ? raced[3]!.granted : 0));
    const after = await counter(t.userId);
    expect(after.used).toBe(billed);
    if (faults) {
      // The killed holder's leases come back only once they expire (serve window + grace).
      expect(after.leased).toBeGreaterThanOrEqual(raced[3]!.granted * W);
      await reclaimExpiredLeases(database, new Date(NOW + DEFAULT_LEASE_POLICY.serveMs + DEFAULT_LEASE_POLICY.graceMs + 1));
    }
    expect(await counter(t.userId)).toEqual({ used: billed, reserved: 0, leased: 0 });
    const usage = await usageTotals(database, t.orgId);
    expect({ requests: usage.requests, tokens: usage.prompt + usage.completion }).toEqual({ requests: settledCalls, tokens: billed });
    const logs = await requestLogs(database, t.orgId);
    expect(logs.length).toBe(settledCalls);
    expect(logs.reduce((s, l) => s + l.prompt_tokens + l.completion_tokens, 0)).toBe(billed);
    const { rows } = await database.pool!.query(`SELECT count(*)::int AS n FROM providers.quota_leases WHERE org_id = $1`, [t.orgId]);
    expect(rows[0].n).toBe(0);
  });
});
