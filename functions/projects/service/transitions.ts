import type { AnalysisStatus } from '../../../drizzle/schema/production.js';
import type { ExperimentStatus, PromotionStatus } from '../../../drizzle/schema/experiments_v1.js';
import type { ReevaluationStatus } from '../../../drizzle/schema/quarantine.js';
import { projectsErrors } from '../errors.js';

/**
 * The lifecycle state machines, as data: `to → the states it may be entered from`. Services use
 * these in the WHERE clause of the conditional UPDATE (`… and status = any(from)`), so a move is
 * legal and atomic in one statement; an illegal one changes nothing and answers 409.
 */
export const experimentMoves: Record<ExperimentStatus, readonly ExperimentStatus[]> = {
  draft: [],
  running: ['draft'],
  completed: ['running'],
  aborted: ['draft', 'running'],
};

/** pending → running → completed | failed | cancelled; nothing else (DESIGN §2, issue 7). */
export const taskMoves: Record<AnalysisStatus, readonly AnalysisStatus[]> = {
  pending: [],
  running: ['pending'],
  completed: ['running'],
  failed: ['running'],
  cancelled: ['running'],
};

export const promotionMoves: Record<PromotionStatus, readonly PromotionStatus[]> = {
  requested: [],
  approved: ['requested'],
  rejected: ['requested'],
  applied: ['approved'],
};

export const reevaluationMoves: Record<ReevaluationStatus, readonly ReevaluationStatus[]> = {
  pending: [],
  approved: ['pending'],
  rejected: ['pending'],
};

export function illegal(what: string, from: string, to: string) {
  return projectsErrors.illegalTransition(`${what} cannot move from ${from} to ${to}`, { from, to });
}
