import { expect } from 'vitest';
import type { TestTenant } from './tenants.js';

type Api = (method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; headers: Headers; json: any; text: string }>;

/** Asserts the status, printing the body when it differs, and returns the JSON. */
export async function ok(res: Promise<{ status: number; json: any; text: string }>, status = 200): Promise<any> {
  const r = await res;
  expect(r.status, r.text).toBe(status);
  return r.json;
}

/**
 * A project with a v1 version, a baseline (accuracy >= 0.9), a running experiment and a passing
 * evaluation: everything a promotion request needs. `config` lets tests pick the hash.
 */
export async function versionReadyForPromotion(api: Api, member: TestTenant, options: { config?: Record<string, unknown>; accuracy?: number } = {}) {
  const project = await ok(api('POST', '/projects', member.token, { name: `lifecycle ${Math.random().toString(36).slice(2, 8)}` }), 201);
  const version = await ok(api('POST', `/projects/${project.id}/versions`, member.token, { config: options.config ?? { model: 'lattice', seed: Math.random() } }), 201);
  await ok(api('POST', `/projects/${project.id}/baselines`, member.token, { metric: 'accuracy', operator: '>=', threshold: 0.9 }), 201);
  const experiment = await ok(api('POST', `/projects/${project.id}/experiments`, member.token, { version_id: version.id, name: 'exp' }), 201);
  await ok(api('POST', `/experiments/${experiment.id}/start`, member.token));
  const evaluation = await ok(api('POST', `/experiments/${experiment.id}/evaluations`, member.token, { metrics: { accuracy: options.accuracy ?? 0.95 }, ai_verdict: 'pass' }), 201);
  return { project, version, experiment, evaluation };
}

/** requested by `requester`, approved by `approver` (two different admins). */
export async function approvedPromotion(api: Api, requester: TestTenant, approver: TestTenant, versionId: string, evaluationId: string) {
  const promotion = await ok(api('POST', '/promotions', requester.token, { version_id: versionId, evaluation_id: evaluationId, reason: 'ready' }), 201);
  await ok(api('POST', `/promotions/${promotion.id}/approve`, approver.token, { reason: 'lgtm' }));
  return promotion;
}
