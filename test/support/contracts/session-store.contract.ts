import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Clock, SessionStore, UserScope } from '../../../functions/shared/sessions/port.js';
import { REUSE_GRACE_MS } from '../../../functions/shared/sessions/port.js';
import { sha256Hex } from '../../../functions/shared/security/hashing.js';

/**
 * The SessionStore contract, run against every adapter (cf. better-auth's adapter suites).
 * `make(clock)` builds a store reading time from `clock`; `newUser()` provides an owner the
 * adapter can reference (a real auth.users row for PostgreSQL).
 */
export interface SessionStoreHarness {
  make(clock: Clock): SessionStore;
  newUser(): Promise<UserScope>;
}

const hash = () => sha256Hex(randomBytes(32));
const HOUR = 3_600_000;

export function describeSessionStore(name: string, harness: SessionStoreHarness): void {
  describe(`SessionStore contract: ${name}`, () => {
    let offset = 0;
    const clock: Clock = () => new Date(Date.now() + offset);
    const store = () => harness.make(clock);
    const later = (ms: number) => new Date(Date.now() + offset + ms);
    const advance = (ms: number) => {
      offset += ms;
    };
    const rotateOpts = (newTokenHash = hash()) => ({ newTokenHash, expiresAt: () => later(HOUR) });

    it('creates a session and lists it among the live sessions of its user only', async () => {
      const s = store();
      const owner = await harness.newUser();
      const other = await harness.newUser();
      const created = await s.create({ ...owner, tokenHash: hash(), userAgent: 'UA/1', ip: '203.0.113.7', expiresAt: later(HOUR) });
      expect(created).toMatchObject({ ...owner, userAgent: 'UA/1', ip: '203.0.113.7', familyId: created.id, revokedAt: null });
      expect((await s.get(owner, created.id))?.id).toBe(created.id);
      expect(await s.get(other, created.id)).toBeUndefined();
      expect((await s.listLive(owner)).map((x) => x.id)).toEqual([created.id]);
      expect(await s.listLive(other)).toEqual([]);
    });

    it('rotates the token in place: the new token works, the session id stays', async () => {
      const s = store();
      const owner = await harness.newUser();
      const t1 = hash();
      const created = await s.create({ ...owner, tokenHash: t1, expiresAt: later(HOUR) });
      const t2 = hash();
      const r1 = await s.rotate(t1, { ...rotateOpts(t2), ip: '198.51.100.1' });
      expect(r1.outcome).toBe('rotated');
      if (r1.outcome !== 'rotated') return;
      expect(r1.session).toMatchObject({ id: created.id, familyId: created.familyId, ip: '198.51.100.1' });
      expect((await s.rotate(t2, rotateOpts())).outcome).toBe('rotated');
    });

    it('an unknown token is invalid', async () => {
      expect((await store().rotate(hash(), rotateOpts())).outcome).toBe('invalid');
    });

    it('the previous token within the grace period is refused without revoking anything', async () => {
      const s = store();
      const owner = await harness.newUser();
      const t1 = hash();
      const t2 = hash();
      await s.create({ ...owner, tokenHash: t1, expiresAt: later(HOUR) });
      await s.rotate(t1, rotateOpts(t2));
      advance(REUSE_GRACE_MS - 2_000);
      expect((await s.rotate(t1, rotateOpts())).outcome).toBe('superseded');
      expect((await s.rotate(t2, rotateOpts())).outcome).toBe('rotated');
    });

    it('the previous token after the grace period revokes the whole family', async () => {
      const s = store();
      const owner = await harness.newUser();
      const t1 = hash();
      const t2 = hash();
      const created = await s.create({ ...owner, tokenHash: t1, expiresAt: later(HOUR) });
      const sibling = await s.create({ ...owner, tokenHash: hash(), expiresAt: later(HOUR), familyId: created.familyId });
      const unrelated = await s.create({ ...owner, tokenHash: hash(), expiresAt: later(HOUR) });
      await s.rotate(t1, rotateOpts(t2));
      advance(REUSE_GRACE_MS + 1_000);
      const reuse = await s.rotate(t1, rotateOpts());
      expect(reuse).toMatchObject({ outcome: 'reused', revoked: 2 });
      expect((await s.rotate(t2, rotateOpts())).outcome).toBe('invalid');
      expect(await s.get(owner, sibling.id)).toBeUndefined();
      expect((await s.listLive(owner)).map((x) => x.id)).toEqual([unrelated.id]);
    });

    it.each([2, 3])('a token %i rotations old, presented after its grace, revokes the whole family', async (age) => {
      const s = store();
      const owner = await harness.newUser();
      const tokens = [hash()];
      const created = await s.create({ ...owner, tokenHash: tokens[0]!, expiresAt: later(HOUR) });
      const sibling = await s.create({ ...owner, tokenHash: hash(), expiresAt: later(HOUR), familyId: created.familyId });
      const unrelated = await s.create({ ...owner, tokenHash: hash(), expiresAt: later(HOUR) });
      for (let i = 0; i < age; i++) {
        tokens.push(hash());
        expect((await s.rotate(tokens[i]!, rotateOpts(tokens[i + 1]))).outcome).toBe('rotated');
        advance(1_000);
      }
      advance(REUSE_GRACE_MS);
      expect(await s.rotate(tokens[0]!, rotateOpts())).toMatchObject({ outcome: 'reused', revoked: 2, session: { id: created.id } });
      // Every token of the chain is dead, the current one (the thief's, say) included.
      for (const t of tokens) expect((await s.rotate(t, rotateOpts())).outcome).toBe('invalid');
      expect(await s.get(owner, sibling.id)).toBeUndefined();
      expect((await s.listLive(owner)).map((x) => x.id)).toEqual([unrelated.id]);
    });

    it('each retired token has its own grace: superseded within it, the family revoked after it', async () => {
      const s = store();
      const owner = await harness.newUser();
      const [t1, t2, t3] = [hash(), hash(), hash()];
      await s.create({ ...owner, tokenHash: t1, expiresAt: later(HOUR) });
      await s.rotate(t1, rotateOpts(t2));
      advance(4_000);
      await s.rotate(t2, rotateOpts(t3));
      advance(2_000); // t1 retired 6 s ago, t2 2 s ago: both are retries
      expect((await s.rotate(t1, rotateOpts())).outcome).toBe('superseded');
      expect((await s.rotate(t2, rotateOpts())).outcome).toBe('superseded');
      advance(6_000); // t1 retired 12 s ago, t2 8 s ago
      expect((await s.rotate(t2, rotateOpts())).outcome).toBe('superseded');
      expect(await s.listLive(owner)).toHaveLength(1);
      expect(await s.rotate(t1, rotateOpts())).toMatchObject({ outcome: 'reused', revoked: 1 });
      expect((await s.rotate(t3, rotateOpts())).outcome).toBe('invalid');
      expect(await s.listLive(owner)).toEqual([]);
    });

    it('two parallel rotations deep in a chain: exactly one wins, nothing is revoked', async () => {
      const s = store();
      const owner = await harness.newUser();
      const [t1, t2, t3] = [hash(), hash(), hash()];
      await s.create({ ...owner, tokenHash: t1, expiresAt: later(HOUR) });
      await s.rotate(t1, rotateOpts(t2));
      await s.rotate(t2, rotateOpts(t3));
      advance(REUSE_GRACE_MS + 1_000);
      const next = [hash(), hash()];
      const results = await Promise.all(next.map((h) => s.rotate(t3, rotateOpts(h))));
      expect(results.map((r) => r.outcome).sort()).toEqual(['rotated', 'superseded']);
      const winner = next[results.findIndex((r) => r.outcome === 'rotated')]!;
      expect((await s.rotate(winner, rotateOpts())).outcome).toBe('rotated');
      expect(await s.listLive(owner)).toHaveLength(1);
    });

    it('two parallel rotations of one token: exactly one wins', async () => {
      const s = store();
      const owner = await harness.newUser();
      const t1 = hash();
      await s.create({ ...owner, tokenHash: t1, expiresAt: later(HOUR) });
      const results = await Promise.all([s.rotate(t1, rotateOpts()), s.rotate(t1, rotateOpts())]);
      const outcomes = results.map((r) => r.outcome).sort();
      expect(outcomes).toEqual(['rotated', 'superseded']);
      expect(await s.listLive(owner)).toHaveLength(1);
    });

    it('an expired session is refused although its record still exists', async () => {
      const s = store();
      const owner = await harness.newUser();
      const t1 = hash();
      const created = await s.create({ ...owner, tokenHash: t1, expiresAt: later(60_000) });
      advance(61_000);
      expect((await s.rotate(t1, rotateOpts())).outcome).toBe('invalid');
      expect(await s.get(owner, created.id)).toBeUndefined();
      expect(await s.listLive(owner)).toEqual([]);
      expect(await s.revokeByToken(t1, 'logout')).toBeUndefined();
    });

    it('revokes one session (only its owner), by token (logout), and all but the current one', async () => {
      const s = store();
      const owner = await harness.newUser();
      const other = await harness.newUser();
      const tokens = [hash(), hash(), hash(), hash()];
      const [a, b, c, d] = await Promise.all(tokens.map((tokenHash) => s.create({ ...owner, tokenHash, expiresAt: later(HOUR) })));
      expect(await s.revoke(other, a!.id, 'user_revoked')).toBe(false);
      expect(await s.revoke(owner, a!.id, 'user_revoked')).toBe(true);
      expect(await s.revoke(owner, a!.id, 'user_revoked')).toBe(false);
      expect((await s.rotate(tokens[0]!, rotateOpts())).outcome).toBe('invalid');
      expect((await s.revokeByToken(tokens[1]!, 'logout'))?.id).toBe(b!.id);
      expect((await s.rotate(tokens[1]!, rotateOpts())).outcome).toBe('invalid');
      expect(await s.revokeAllForUser(owner, 'password_changed', c!.id)).toBe(1);
      expect((await s.listLive(owner)).map((x) => x.id)).toEqual([c!.id]);
      expect(await s.get(owner, d!.id)).toBeUndefined();
      expect(await s.revokeAllForUser(owner, 'password_reset')).toBe(1);
      expect(await s.listLive(owner)).toEqual([]);
    });

    it('answers its readiness probe', async () => {
      await expect(store().ping()).resolves.toBeUndefined();
    });
  });
}
