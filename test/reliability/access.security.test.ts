import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '../../functions/shared/http/logger.js';
import type { Role } from '../../functions/shared/security/tokens.js';
import { startOpenAiUpstream } from '../fakes/openai-upstream.js';
import type { FakeUpstream } from '../fakes/upstream-core.js';
import { createTestDatabase } from '../support/db.js';
import { createTenant, type TestTenant } from '../support/tenants.js';
import { send, violations, type Exchange } from './support/checks.js';
import { buildFunctions, type FunctionUnderTest } from './support/functions.js';
import { DOMAIN_HINTS, idResolver, pathFor, seedObjects, type Seeded } from './support/objects.js';
import { exampleOf, routesOf, textFields, type Route } from './support/openapi.js';
import { secretsIn } from './support/secrets.js';

/**
 * The security matrix, built from the OpenAPI documents so routes added later are covered too:
 * IDOR (a user of org A against every object route with org B's ids → 404, and B's objects intact),
 * the role matrix (viewer/member/admin → 403 where due, and never 403 for a role above one that was
 * let through), SQL-injection strings stored verbatim, and no secret in any log line written.
 */
const { database } = await createTestDatabase();
let fns: FunctionUnderTest[];
let upstream: FakeUpstream;
const orgA: Partial<Record<Role, TestTenant>> = {};
const orgB: Partial<Record<Role, TestTenant>> = {};
let seededA: Seeded;
let seededB: Seeded;
const logLines: string[] = [];
const exchanges: Exchange[] = [];
let previousSink: (line: string) => void;
let previousLevel: string | undefined;

const ROLES: Role[] = ['viewer', 'member', 'admin'];
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Admin-only routes named by DESIGN.md §4 (checked where the function serves them). */
const ADMIN_ONLY: Record<string, string[]> = {
  auth: ['POST /invitations', 'GET /invitations', 'DELETE /invitations/{id}', 'GET /audit'],
  projects: ['GET /audit', 'GET /audit/verify'],
  providers: ['PUT /quotas/users/{user_id}'],
};
/** POSTs in the projects function that compute and store nothing, open to viewers. */
const READ_LIKE_POST = /\/(check|verify)$/;

const SQLI = [
  "Robert'); DROP TABLE projects.projects;--",
  "x' OR '1'='1",
  "%' AND 1=0 UNION SELECT password_hash FROM auth.users --",
  '$$; DROP SCHEMA auth CASCADE; $$',
  "1; SELECT pg_sleep(0); --",
  "\\'; TRUNCATE ops.outbox; --",
  "😀' OR 1=1 /* é */",
];

async function as(fn: FunctionUnderTest, label: string, method: string, path: string, token: string, body?: unknown) {
  const x = await send(fn.app, fn.name, label, method, path, {
    headers: { authorization: `Bearer ${token}`, 'if-match': '"1"', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  exchanges.push(x);
  return x;
}

const overrides = () => (field: string) =>
  field === 'base_url' ? upstream.baseUrl : field === 'api_key' ? `sk-rel-${Math.random().toString(36).slice(2)}-secretvalue` : DOMAIN_HINTS[field];

beforeAll(async () => {
  // Every line the code would ever write, debug included, goes through the scan.
  previousLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'debug';
  previousSink = setLogSink((line) => logLines.push(line));
  upstream = await startOpenAiUpstream();
  fns = await buildFunctions(database);
  const a = await createTenant(database, { role: 'admin' });
  const b = await createTenant(database, { role: 'admin' });
  orgA.admin = a;
  orgB.admin = b;
  for (const role of ['viewer', 'member'] as Role[]) {
    orgA[role] = await createTenant(database, { role, orgId: a.orgId });
    orgB[role] = await createTenant(database, { role, orgId: b.orgId });
  }
  seededB = await seedObjects(fns, b, { override: overrides() });
  seededA = await seedObjects(fns, a, { override: overrides() });
  exchanges.push(...seededA.exchanges, ...seededB.exchanges);
  if (process.env.RELIABILITY_DEBUG) for (const x of seededB.exchanges.filter((e) => e.status !== 201)) console.info(x.fn, x.path, x.status, x.text.slice(0, 300));
});

afterAll(async () => {
  setLogSink(previousSink);
  if (previousLevel === undefined) delete process.env.LOG_LEVEL;
  else process.env.LOG_LEVEL = previousLevel;
  await upstream?.close();
});

const allRoutes = () => fns.flatMap((fn) => routesOf(fn.name, fn.doc).map((route) => ({ fn, route })));
const bodyFor = (fn: FunctionUnderTest, route: Route, seeded: Seeded, actor: TestTenant) =>
  route.bodySchema ? exampleOf(fn.doc, route.bodySchema, { idFor: idResolver(seeded.ids, actor), override: overrides() }) : undefined;

describe('IDOR: org A against org B', () => {
  it('every object route answers 404 with B’s ids, and B’s objects are untouched', async () => {
    const found: string[] = [];
    const undecided: { fn: FunctionUnderTest; route: Route; path: string; body: unknown; status: number }[] = [];
    let covered = 0;
    const uncovered: string[] = [];
    const routes = allRoutes().filter(({ route }) => route.pathParams.length > 0);
    // Safe methods first, so a destructive attempt that wrongly succeeds is still caught by the GETs.
    routes.sort((x, y) => Number(x.route.method !== 'GET') - Number(y.route.method !== 'GET'));
    for (const { fn, route } of routes) {
      const path = pathFor(route, seededB.ids, orgB.admin!);
      if (!path) {
        uncovered.push(`${fn.name} ${route.method} ${route.template}`);
        continue;
      }
      covered++;
      const body = bodyFor(fn, route, seededA, orgA.admin!);
      const x = await as(fn, 'idor', route.method, path, orgA.admin!.token, body);
      found.push(...violations(x));
      if (x.status === 404) continue;
      if (x.status === 422 || x.status === 403) undecided.push({ fn, route, path, body, status: x.status });
      else found.push(`${fn.name} ${route.method} ${route.template}: org A got ${x.status} on org B's object (expected 404): ${x.text.slice(0, 200)}`);
    }
    // B still sees all of its objects.
    for (const c of seededB.created) {
      const fn = fns.find((f) => f.name === c.fn)!;
      const getRoute = routesOf(fn.name, fn.doc).find((r) => r.method === 'GET' && r.template === `${c.route.template}/{${r.pathParams.at(-1)}}`);
      if (!getRoute) continue;
      const x = await as(fn, 'owner read', 'GET', `${c.path}/${c.id}`, orgB.admin!.token);
      if (x.status !== 200) found.push(`${fn.name} GET ${getRoute.template}: org B's own object answers ${x.status} after org A's attempts`);
    }
    // A 422/403 for A is fine only if B's own admin gets the same (then the body or role decided, not the id).
    for (const u of undecided) {
      const x = await as(u.fn, 'idor control', u.route.method, u.path, orgB.admin!.token, u.body);
      if (x.status !== u.status) found.push(`${u.fn.name} ${u.route.method} ${u.route.template}: org A got ${u.status} where org B gets ${x.status} (existence leaks)`);
    }
    console.info(`IDOR: ${covered} object routes attacked, ${seededB.created.length} objects of org B (${Object.keys(seededB.ids).join(", ")}), ${undecided.length} decided by body/role first; ids the suite could not create for: ${uncovered.join('; ') || 'none'}`);
    expect(covered, 'object routes with resolvable ids').toBeGreaterThan(0);
    expect(found, `IDOR over ${covered} object routes`).toEqual([]);
  });

  it('a create that refers to org B’s objects in its body is refused', async () => {
    const found: string[] = [];
    for (const { fn, route } of allRoutes()) {
      if (route.method !== 'POST' || !route.bodySchema) continue;
      const refs = Object.keys(route.bodySchema.properties ?? {}).filter((k) => /_id$/.test(k) && k !== 'user_id');
      if (!refs.length) continue;
      const path = pathFor(route, seededA.ids, orgA.admin!);
      if (!path) continue;
      const body = exampleOf(fn.doc, route.bodySchema, { idFor: idResolver(seededB.ids, orgB.admin!), override: overrides() });
      if (!refs.some((k) => Object.values(seededB.ids).includes((body as Record<string, string>)[k]!))) continue;
      const x = await as(fn, 'idor body', 'POST', path, orgA.admin!.token, body);
      found.push(...violations(x));
      if (x.status < 400) found.push(`${fn.name} POST ${route.template}: accepted org B's ids in ${refs.join(', ')} (${x.status})`);
    }
    expect(found).toEqual([]);
  });
});

describe('role matrix', () => {
  it('viewer/member/admin get 403 where due, and a higher role is never refused where a lower one passed', async () => {
    const found: string[] = [];
    let decided = 0;
    const routes = allRoutes().filter(({ route }) => !route.template.startsWith('/v1/'));
    routes.sort((x, y) => Number(x.route.method === 'DELETE') - Number(y.route.method === 'DELETE'));
    for (const { fn, route } of routes) {
      const path = pathFor(route, seededA.ids, orgA.admin!);
      if (!path) continue;
      const statuses: Partial<Record<Role, number>> = {};
      for (const role of ROLES) {
        const x = await as(fn, `role ${role}`, route.method, path, orgA[role]!.token, bodyFor(fn, route, seededA, orgA[role]!));
        found.push(...violations(x));
        statuses[role] = x.status;
      }
      const id = `${route.method} ${route.template}`;
      if (ROLES.every((r) => statuses[r] === 422 || statuses[r] === 404)) continue; // body or state decided before roles
      decided++;
      for (let i = 0; i < ROLES.length; i++) {
        for (let j = i + 1; j < ROLES.length; j++) {
          const lower = statuses[ROLES[i]!]!;
          const higher = statuses[ROLES[j]!]!;
          if (lower < 400 && higher === 403) found.push(`${fn.name} ${id}: ${ROLES[j]} refused (403) where ${ROLES[i]} got ${lower}`);
        }
      }
      if (ADMIN_ONLY[fn.name]?.includes(id)) {
        if (statuses.viewer !== 403 || statuses.member !== 403) found.push(`${fn.name} ${id}: admin-only, but viewer ${statuses.viewer}, member ${statuses.member}`);
        if (statuses.admin === 403) found.push(`${fn.name} ${id}: admin refused`);
      }
      if (fn.name === 'projects' && MUTATING.has(route.method) && !READ_LIKE_POST.test(route.template) && statuses.viewer !== 403) {
        found.push(`${fn.name} ${id}: a viewer changed something (${statuses.viewer})`);
      }
    }
    console.info(`roles: ${decided} of ${routes.length} routes decided by role`);
    expect(decided, 'routes where the role decided').toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});

describe('SQL injection strings', () => {
  it('are stored verbatim in every free-text field and break nothing', async () => {
    const found: string[] = [];
    let stored = 0;
    for (const { fn, route } of allRoutes()) {
      if (route.method !== 'POST' || !route.op.responses?.['201'] || !route.bodySchema) continue;
      const fields = textFields(fn.doc, route.bodySchema);
      if (!fields.length) continue;
      const path = pathFor(route, seededA.ids, orgA.admin!);
      if (!path) continue;
      const props = route.bodySchema.properties ?? {};
      const chosen: Record<string, string> = {};
      fields.forEach((f, i) => {
        const max = props[f]?.maxLength ?? props[f]?.anyOf?.[0]?.maxLength ?? 10_000;
        const s = [SQLI[(i + stored) % SQLI.length]!, ...SQLI].find((v) => v.length <= max);
        if (s) chosen[f] = s;
      });
      const body = exampleOf(fn.doc, route.bodySchema, { idFor: idResolver(seededA.ids, orgA.admin!), override: (f) => chosen[f] ?? overrides()(f) });
      const x = await as(fn, 'sqli', 'POST', path, orgA.admin!.token, body);
      found.push(...violations(x));
      if (x.status !== 201) continue;
      stored++;
      const getRoute = routesOf(fn.name, fn.doc).find((r) => r.method === 'GET' && r.template === `${route.template}/{${r.pathParams.at(-1)}}`);
      const read = getRoute ? (await as(fn, 'sqli read', 'GET', `${path}/${x.json.id}`, orgA.admin!.token)).json : x.json;
      for (const [f, v] of Object.entries(chosen)) {
        if (f in (read ?? {}) && read[f] !== v) found.push(`${fn.name} POST ${route.template}: ${f} stored as ${JSON.stringify(read[f])}, sent ${JSON.stringify(v)}`);
      }
    }
    // Every table the strings named is still there and B's data is intact.
    const { rows } = await database.pool!.query(`select to_regclass('projects.projects') is not null as p, to_regclass('ops.outbox') is not null as o, (select count(*) from auth.users)::int as users`);
    expect(rows[0]).toMatchObject({ p: true, o: true });
    expect(rows[0].users).toBeGreaterThanOrEqual(6);
    console.info(`SQL injection: ${stored} creates stored the strings verbatim`);
    expect(stored, 'creates that stored injection strings').toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});

describe('secrets in logs', () => {
  it('no API key, password, password hash, token, TOTP secret, invitation code or email appears in any log line of this file', async () => {
    // An account's whole life through the auth function, so its secrets are in play too.
    const auth = fns.find((f) => f.name === 'auth')!;
    const paths = new Set(Object.keys(auth.doc.paths ?? {}));
    if (paths.has('/invitations') && paths.has('/register') && paths.has('/login')) {
      const inv = await as(auth, 'invite', 'POST', '/invitations', orgA.admin!.token, { role: 'member' });
      const email = `secret-${Date.now()}@example.test`;
      const password = 'Unlogged-Passphrase-7731-zeta';
      await as(auth, 'register', 'POST', '/register', '', { invitation_code: inv.json?.invitation_code, email, password, name: 'Secret Keeper' });
      const login = await as(auth, 'login', 'POST', '/login', '', { email, password });
      await as(auth, 'login wrong', 'POST', '/login', '', { email, password: `${password}-wrong` });
      const token = login.json?.access_token;
      if (token) {
        await as(auth, 'totp', 'POST', '/mfa/totp/setup', token);
        await as(auth, 'refresh', 'POST', '/token/refresh', '', { refresh_token: login.json.refresh_token });
        await as(auth, 'change', 'POST', '/password/change', token, { current_password: password, new_password: `${password}-new` });
      }
      await as(auth, 'forgot', 'POST', '/password/forgot', '', { email });
    }
    // Stored password hashes too: drizzle's error messages carry a failed statement's parameters.
    const { rows: hashes } = await database.pool!.query<{ password_hash: string }>('select password_hash from auth.users');
    const secrets = [
      ...secretsIn(exchanges, [orgA, orgB].flatMap((o) => Object.values(o).map((t) => t!.token))),
      ...hashes.map((r) => r.password_hash),
    ];
    expect(secrets.length).toBeGreaterThan(3);
    expect(secrets.some((s) => s.includes('@'))).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    console.info(`secrets: ${secrets.length} secrets looked for in ${logLines.length} log lines`);
    const leaks = secrets.flatMap((s) => logLines.filter((l) => l.includes(s)).map((l) => `${s.slice(0, 6)}… in ${l.slice(0, 300)}`));
    expect(leaks).toEqual([]);
  });
});
