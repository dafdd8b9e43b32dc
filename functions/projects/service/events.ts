import type { Tx } from '../../shared/db/index.js';
import { deterministicUuid } from '../../shared/events/ids.js';
import { writeOutbox } from '../../shared/events/outbox.js';

/** The domain events of the projects function (action values in analytics.audit_events). */
export type ProjectEventType =
  | 'project.created'
  | 'project.deleted'
  | 'project.restored'
  | 'project.status_changed'
  | 'version.created'
  | 'version.zone_changed'
  | 'promotion.requested'
  | 'promotion.approved'
  | 'promotion.rejected'
  | 'promotion.applied'
  | 'config.blacklisted'
  | 'quarantine.recorded'
  | 'reevaluation.decided'
  | 'checkpoint.rolled_back'
  | 'analysis_session.status_changed';

type Scalar = string | number | boolean | null;

/** Free text travels to analytics; bounded so an event stays small whatever a client typed. */
const MAX_TEXT = 500;
export const brief = (text: string | null | undefined): string | null => (text == null ? null : text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

// Several events of one transaction share a millisecond; a strictly increasing clock keeps their
// occurred_at in emission order, so consumers can order a change's events without another column.
let lastMs = 0;
function nextOccurredAt(): Date {
  lastMs = Math.max(Date.now(), lastMs + 1);
  return new Date(lastMs);
}

/**
 * Appends one domain event to ops.outbox in the caller's (withTenant) transaction, so the event
 * exists iff the change committed. `key` names the transition (row id + the state it reached): the
 * event id is derived from it, so re-emitting the same transition is deduplicated by the outbox and
 * the sink. Payloads carry ids, from/to and reasons only — never configs or secrets.
 */
export async function emit(
  tx: Tx,
  event: { type: ProjectEventType; orgId: string; actorId: string | null | undefined; key: (string | number | null | undefined)[]; data: Record<string, Scalar> },
): Promise<void> {
  await writeOutbox(tx, {
    stream: 'domain_events',
    eventId: deterministicUuid('projects', event.type, ...event.key),
    orgId: event.orgId,
    occurredAt: nextOccurredAt(),
    payload: { type: event.type, actor_id: event.actorId ?? null, ...event.data },
  });
}
