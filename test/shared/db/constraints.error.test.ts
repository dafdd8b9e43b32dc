import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../support/db.js';

/** The database itself refuses bad rows: every CHECK, FK and uniqueness named here answers with its name. */
const { database } = await createTestDatabase();
const pool = database.pool!;
const hash = (c: string) => c.repeat(64);

let orgId: string;
let userId: string;
let projectId: string;
let versionId: string;

beforeAll(async () => {
  orgId = (await pool.query(`insert into projects.organizations (name, slug) values ('C', 'c-org') returning id`)).rows[0].id;
  userId = (await pool.query(`insert into auth.users (org_id, email, name, password_hash) values ($1, 'c@example.test', 'C', 'x') returning id`, [orgId])).rows[0].id;
  projectId = (await pool.query(`insert into projects.projects (org_id, name, slug) values ($1, 'P', 'p') returning id`, [orgId])).rows[0].id;
  versionId = (
    await pool.query(`insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 1, '{}', $3) returning id`, [orgId, projectId, hash('a')])
  ).rows[0].id;
});

async function violation(text: string, params: (ctx: { orgId: string; userId: string; projectId: string; versionId: string }) => unknown[]): Promise<pg.DatabaseError> {
  try {
    await pool.query(text, params({ orgId, userId, projectId, versionId }));
  } catch (err) {
    return err as pg.DatabaseError;
  }
  throw new Error(`expected the database to refuse: ${text}`);
}

describe('CHECK constraints', () => {
  it.each([
    ['projects_status_check', `insert into projects.projects (org_id, name, slug, status) values ($1, 'x', 'x1', 'bogus')`, (c: any) => [c.orgId]],
    ['projects_schema_status_check', `insert into projects.projects (org_id, name, slug, schema_status) values ($1, 'x', 'x2', 'maybe')`, (c: any) => [c.orgId]],
    ['baselines_operator_check', `insert into projects.baselines (org_id, project_id, metric, operator, threshold) values ($1, $2, 'm', '!=', 1)`, (c: any) => [c.orgId, c.projectId]],
    ['versions_zone_check', `insert into projects.versions (org_id, project_id, version_number, config, config_hash, zone) values ($1, $2, 9, '{}', $3, 'v4')`, (c: any) => [c.orgId, c.projectId, hash('b')]],
    ['versions_version_number_check', `insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 0, '{}', $3)`, (c: any) => [c.orgId, c.projectId, hash('b')]],
    ['versions_config_hash_check', `insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 7, '{}', 'nothex')`, (c: any) => [c.orgId, c.projectId]],
    ['usage_tracking_prompt_tokens_check', `insert into providers.usage_tracking (org_id, user_id, provider, model, day, prompt_tokens) values ($1, $2, 'openai', 'm', current_date, -1)`, (c: any) => [c.orgId, c.userId]],
    ['usage_tracking_cost_micros_check', `insert into providers.usage_tracking (org_id, user_id, provider, model, day, cost_micros) values ($1, $2, 'openai', 'm', current_date, -5)`, (c: any) => [c.orgId, c.userId]],
    ['quota_counters_tokens_used_check', `insert into providers.quota_counters (org_id, subject_type, subject_id, period, period_start, tokens_used) values ($1, 'user', $2, 'daily', current_date, -10)`, (c: any) => [c.orgId, c.userId]],
    ['quota_counters_period_check', `insert into providers.quota_counters (org_id, subject_type, subject_id, period, period_start) values ($1, 'user', $2, 'hourly', current_date)`, (c: any) => [c.orgId, c.userId]],
    ['users_role_check', `insert into auth.users (org_id, email, name, password_hash, role) values ($1, 'r@example.test', 'R', 'x', 'superuser')`, (c: any) => [c.orgId]],
    ['users_failed_attempts_check', `update auth.users set failed_attempts = -1 where id = $1`, (c: any) => [c.userId]],
    ['blacklist_config_hash_check', `insert into experiments_v1.blacklist (org_id, config_hash, reason) values ($1, 'zz', 'r')`, (c: any) => [c.orgId]],
  ])('%s refuses a bad value', async (name, text, params) => {
    const err = await violation(text, params);
    expect(err.code).toBe('23514');
    expect(err.constraint).toBe(name);
  });
});

describe('uniqueness', () => {
  it('version numbers are unique per project', async () => {
    const err = await violation(`insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 1, '{}', $3)`, (c) => [c.orgId, c.projectId, hash('c')]);
    expect(err.code).toBe('23505');
    expect(err.constraint).toBe('versions_project_id_version_number_uq');
  });

  it('a config hash is blacklisted once per organization', async () => {
    await pool.query(`insert into experiments_v1.blacklist (org_id, config_hash, reason) values ($1, $2, 'first')`, [orgId, hash('d')]);
    const err = await violation(`insert into experiments_v1.blacklist (org_id, config_hash, reason) values ($1, $2, 'again')`, (c) => [c.orgId, hash('d')]);
    expect(err.constraint).toBe('blacklist_org_id_config_hash_uq');
  });

  it('emails are unique regardless of case', async () => {
    const err = await violation(`insert into auth.users (org_id, email, name, password_hash) values ($1, 'C@Example.TEST', 'C2', 'x')`, (c) => [c.orgId]);
    expect(err.constraint).toBe('users_email_lower_uq');
  });

  it('project slugs are unique per organization among live projects only', async () => {
    await pool.query(`insert into projects.projects (org_id, name, slug, deleted_at) values ($1, 'old', 'reused', now())`, [orgId]);
    await pool.query(`insert into projects.projects (org_id, name, slug) values ($1, 'new', 'reused')`, [orgId]);
    const err = await violation(`insert into projects.projects (org_id, name, slug) values ($1, 'dup', 'reused')`, (c) => [c.orgId]);
    expect(err.constraint).toBe('projects_org_id_slug_uq');
  });
});

describe('foreign keys', () => {
  it('a version needs an existing project', async () => {
    const err = await violation(`insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 1, '{}', $3)`, (c) => [c.orgId, randomUUID(), hash('e')]);
    expect(err.code).toBe('23503');
    expect(err.constraint).toBe('versions_project_id_fk');
  });

  it('deleting a project cascades to its versions and baselines', async () => {
    const p = (await pool.query(`insert into projects.projects (org_id, name, slug) values ($1, 'gone', 'gone') returning id`, [orgId])).rows[0].id;
    await pool.query(`insert into projects.versions (org_id, project_id, version_number, config, config_hash) values ($1, $2, 1, '{}', $3)`, [orgId, p, hash('f')]);
    await pool.query(`insert into projects.baselines (org_id, project_id, metric, operator, threshold) values ($1, $2, 'm', '>', 1)`, [orgId, p]);
    await pool.query(`delete from projects.projects where id = $1`, [p]);
    const left = await pool.query(`select (select count(*) from projects.versions where project_id = $1)::int + (select count(*) from projects.baselines where project_id = $1)::int as n`, [p]);
    expect(left.rows[0].n).toBe(0);
  });

  it('a quarantine record keeps its version from being deleted', async () => {
    await pool.query(`insert into quarantine.quarantine_records (org_id, project_id, version_id, config_hash, config, reason, source) values ($1, $2, $3, $4, '{}', 'bad', 'manual')`, [orgId, projectId, versionId, hash('a')]);
    const err = await violation(`delete from projects.versions where id = $1`, (c) => [c.versionId]);
    expect(err.code).toBe('23503');
  });
});
