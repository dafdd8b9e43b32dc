import type { OpenAPIHono } from '@hono/zod-openapi';
import type { FunctionEnv, KernelServices } from './context.js';

/**
 * /healthz: the process answers (liveness; never touches dependencies).
 * /readyz: a real database round trip with its latency, pool figures and each extra dependency;
 * 503 with the reason when any is down, so a load balancer stops routing here.
 */
export function registerHealth<S extends KernelServices>(app: OpenAPIHono<FunctionEnv<S>>, name: string, services: () => Promise<S>): void {
  app.get('/healthz', (c) => c.json({ status: 'ok', function: name }));
  app.get('/readyz', async (c) => {
    let s: S;
    try {
      s = await services();
    } catch (err) {
      c.var.log.error('services failed to start', { error: err });
      return c.json({ status: 'degraded', function: name, reason: 'services failed to start', dependencies: { database: { status: 'down' } } }, 503);
    }
    const dependencies: Record<string, { status: 'ok' | 'down'; latency_ms?: number; error?: string }> = {};
    let degraded = false;
    try {
      dependencies.database = { status: 'ok', latency_ms: await s.database.ping() };
    } catch (err) {
      degraded = true;
      dependencies.database = { status: 'down', error: (err as Error).message };
    }
    for (const [dep, probe] of Object.entries(s.readiness ?? {})) {
      const started = performance.now();
      try {
        await probe();
        dependencies[dep] = { status: 'ok', latency_ms: Math.round(performance.now() - started) };
      } catch (err) {
        degraded = true;
        dependencies[dep] = { status: 'down', error: (err as Error).message };
      }
    }
    const stats = s.database.stats();
    const body = {
      status: degraded ? 'degraded' : 'ok',
      function: name,
      ...(degraded ? { reason: Object.entries(dependencies).filter(([, d]) => d.status === 'down').map(([k]) => `${k} is down`).join(', ') } : {}),
      dependencies,
      pool: { total: stats.total, idle: stats.idle, waiting: stats.waiting, max: stats.max },
    };
    return c.json(body, degraded ? 503 : 200);
  });
}
