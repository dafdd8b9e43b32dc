import { and, eq, inArray, sql } from 'drizzle-orm';
import { analysisSessions, analysisTasks, codeReviewResults, type AnalysisStatus, type AnalysisTaskType } from '../../../drizzle/schema/production.js';
import type { Tx } from '../../shared/db/index.js';
import { problems } from '../../shared/http/index.js';
import type { Tenant } from '../../shared/http/index.js';
import { projectsErrors } from '../errors.js';
import { emit } from './events.js';
import { keysetPage } from './paging.js';
import { requireProject } from './projects.js';
import { illegal, taskMoves } from './transitions.js';
import { requireVersion } from './versions.js';

export type SessionRow = typeof analysisSessions.$inferSelect;
const TERMINAL: readonly AnalysisStatus[] = ['completed', 'failed', 'cancelled'];

export async function createSession(tx: Tx, t: Tenant, input: { projectId: string; versionId: string }) {
  const { projectId, versionId } = input;
  await requireProject(tx, t, { projectId });
  const version = await requireVersion(tx, t, { versionId, projectId });
  if (version.zone !== 'v2') throw projectsErrors.wrongZone(`analysis sessions run on v2 versions; version ${version.versionNumber} is in ${version.zone}`);
  const [row] = await tx.insert(analysisSessions).values({ orgId: t.orgId, projectId, versionId, createdBy: t.userId, updatedBy: t.userId }).returning();
  return row!;
}

export async function requireSession(tx: Tx, t: Tenant, input: { sessionId: string; lock?: boolean }): Promise<SessionRow> {
  const q = tx.select().from(analysisSessions).where(and(eq(analysisSessions.orgId, t.orgId), eq(analysisSessions.id, input.sessionId)));
  const [row] = input.lock ? await q.for('update') : await q;
  if (!row) throw problems.notFound('analysis session');
  await requireProject(tx, t, { projectId: row.projectId });
  return row;
}

export async function listSessions(tx: Tx, t: Tenant, q: { projectId: string; limit: number; cursor?: string | undefined; status?: AnalysisStatus | undefined }) {
  const { projectId } = q;
  await requireProject(tx, t, { projectId });
  return keysetPage(tx, analysisSessions, q, eq(analysisSessions.orgId, t.orgId), eq(analysisSessions.projectId, projectId), q.status ? eq(analysisSessions.status, q.status) : undefined);
}

export async function addTask(tx: Tx, t: Tenant, input: { sessionId: string; type: AnalysisTaskType }) {
  const { sessionId, type } = input;
  const session = await requireSession(tx, t, { sessionId, lock: true });
  if (TERMINAL.includes(session.status)) throw projectsErrors.illegalTransition(`the session is ${session.status}; start a new one`);
  const [row] = await tx.insert(analysisTasks).values({ orgId: t.orgId, sessionId, type }).returning();
  return row!;
}

export async function listTasks(tx: Tx, t: Tenant, sessionId: string) {
  await requireSession(tx, t, { sessionId });
  return tx.select().from(analysisTasks).where(and(eq(analysisTasks.orgId, t.orgId), eq(analysisTasks.sessionId, sessionId))).orderBy(analysisTasks.createdAt, analysisTasks.id);
}

/**
 * Session status follows its tasks: running once any task started; when every task is terminal,
 * failed if any failed, cancelled if all were cancelled, else completed.
 */
export function sessionStatusFor(current: AnalysisStatus, tasks: AnalysisStatus[]): AnalysisStatus {
  if (!tasks.length || tasks.every((t) => t === 'pending')) return current;
  if (!tasks.every((t) => TERMINAL.includes(t))) return 'running';
  if (tasks.includes('failed')) return 'failed';
  if (tasks.every((t) => t === 'cancelled')) return 'cancelled';
  return 'completed';
}

/** One conditional UPDATE per move (status = any(allowed sources)); an illegal move changes nothing. */
export async function moveTask(
  tx: Tx,
  t: Tenant,
  input: { sessionId: string; taskId: string; status: Exclude<AnalysisStatus, 'pending'>; result?: Record<string, unknown> | undefined; error?: string | undefined },
) {
  const { sessionId, taskId } = input;
  const session = await requireSession(tx, t, { sessionId, lock: true });
  const [current] = await tx.select().from(analysisTasks).where(and(eq(analysisTasks.orgId, t.orgId), eq(analysisTasks.sessionId, sessionId), eq(analysisTasks.id, taskId)));
  if (!current) throw problems.notFound('analysis task');
  const set: Record<string, unknown> = { status: input.status };
  if (input.status === 'running') {
    set.startedAt = sql`now()`;
    set.attempts = sql`${analysisTasks.attempts} + 1`;
  } else set.finishedAt = sql`now()`;
  if (input.result !== undefined) set.result = input.result;
  if (input.error !== undefined) set.error = input.error;
  const [task] = await tx
    .update(analysisTasks)
    .set(set)
    .where(and(eq(analysisTasks.id, taskId), inArray(analysisTasks.status, [...taskMoves[input.status]])))
    .returning();
  if (!task) throw illegal('the task', current.status, input.status);

  const statuses = (await tx.select({ s: analysisTasks.status }).from(analysisTasks).where(eq(analysisTasks.sessionId, sessionId))).map((r) => r.s);
  const next = sessionStatusFor(session.status, statuses);
  let updated = session;
  if (next !== session.status) {
    const changes: Record<string, unknown> = { status: next, updatedBy: t.userId };
    if (next === 'running' && !session.startedAt) changes.startedAt = sql`now()`;
    if (TERMINAL.includes(next)) changes.finishedAt = sql`now()`;
    [updated] = (await tx.update(analysisSessions).set(changes).where(eq(analysisSessions.id, sessionId)).returning()) as [SessionRow];
    // Session states only move forward, so (session, state reached) names the transition.
    await emit(tx, {
      type: 'analysis_session.status_changed',
      orgId: t.orgId,
      actorId: t.userId,
      key: [sessionId, next],
      data: { session_id: sessionId, project_id: session.projectId, version_id: session.versionId, from: session.status, to: next },
    });
  }
  return { task, session: updated };
}

export async function addReview(tx: Tx, t: Tenant, input: { sessionId: string; score: number; findings: unknown[]; reviewer?: string | undefined }) {
  const { sessionId } = input;
  await requireSession(tx, t, { sessionId });
  const [row] = await tx
    .insert(codeReviewResults)
    .values({ orgId: t.orgId, sessionId, score: input.score, findings: input.findings, reviewer: input.reviewer ?? `user:${t.userId}`, createdBy: t.userId, updatedBy: t.userId })
    .returning();
  return row!;
}

export async function listReviews(tx: Tx, t: Tenant, sessionId: string) {
  await requireSession(tx, t, { sessionId });
  return tx.select().from(codeReviewResults).where(and(eq(codeReviewResults.orgId, t.orgId), eq(codeReviewResults.sessionId, sessionId))).orderBy(codeReviewResults.createdAt, codeReviewResults.id);
}
