import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/infra/hcl.js';

/** The runbook script, in --dry-run (no gcloud here): the clone it would run, and what it refuses. */
const SCRIPT = join(ROOT, 'scripts', 'restore-pitr.sh');
const run = (...args: string[]) => spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8' });

describe('scripts/restore-pitr.sh', () => {
  it('clones the instance at the given UTC time into a new instance named after it', () => {
    const result = run('--project', 'lattice-lock-prod', '--instance', 'lattice-prod', '--time', '2026-01-02T03:04:05Z', '--zone', 'europe-west1-b', '--dry-run');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(
      '+ gcloud sql instances clone lattice-prod lattice-prod-pitr-202601020304 --project=lattice-lock-prod --point-in-time=2026-01-02T03:04:05Z --async --format=value(name) --preferred-zone=europe-west1-b',
    );
  });

  it('refuses a missing argument, a non-UTC or future time, and a bad target name', () => {
    expect(run('--project', 'p', '--instance', 'i').status).toBe(2);
    const local = run('--project', 'p', '--instance', 'i', '--time', '2026-01-02T03:04:05+02:00', '--dry-run');
    expect(local.status).toBe(2);
    expect(local.stderr).toContain('must be UTC');
    expect(run('--project', 'p', '--instance', 'i', '--time', '2999-01-01T00:00:00Z', '--dry-run').stderr).toContain('in the future');
    expect(run('--project', 'p', '--instance', 'i', '--time', '2026-01-02T03:04:05Z', '--target', 'Bad_Name', '--dry-run').status).toBe(2);
  });
});
