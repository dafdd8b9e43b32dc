import { describe, expect, it } from 'vitest';
import { buildProvidersApp } from '../../functions/providers/app.js';

/**
 * The providers document states each operation's real check (routes/auth.ts): gateway API keys are
 * accepted exactly where the route verifies them (the /v1/ gateway, GET /quotas, GET /usage), access
 * tokens everywhere, and no operation is left without `security`.
 */
type Op = { security?: Record<string, string[]>[] };
const never = () => Promise.reject(new Error('not used: the document needs no services'));
const doc = buildProvidersApp(never as never).getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'providers', version: '0' } }) as unknown as {
  paths: Record<string, Record<string, Op>>;
  components?: { securitySchemes?: Record<string, unknown> };
};
const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })));

describe('providers OpenAPI security', () => {
  it('every operation needs an access token; API keys only where the route accepts them', () => {
    expect(operations.length).toBeGreaterThan(20);
    const apiKeyOps: string[] = [];
    for (const { name, op } of operations) {
      const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
      expect(schemes, name).toContain('bearer');
      if (schemes.includes('apiKey')) apiKeyOps.push(name);
      expect(schemes.every((s) => s === 'bearer' || s === 'apiKey'), name).toBe(true);
    }
    expect(apiKeyOps.sort()).toEqual(['GET /quotas', 'GET /usage', 'GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/embeddings']);
    expect(Object.keys(doc.components?.securitySchemes ?? {}).sort()).toEqual(['apiKey', 'bearer']);
  });
});
