import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { EventSink } from './port.js';

export type { EventSink, SinkEvent, SendResult, UsageTotals, SinkTable } from './port.js';
export { writeOutbox, type OutboxEvent, type Stream } from './outbox.js';

/** EVENT_SINK=bigquery → streaming insert into BIGQUERY_DATASET; postgres → analytics.* (embedded, refused in production by config). */
export async function openEventSink(cfg: Config, database: Database): Promise<EventSink> {
  if (cfg.EVENT_SINK === 'bigquery') {
    if (!cfg.GOOGLE_CLOUD_PROJECT) throw new Error('GOOGLE_CLOUD_PROJECT: required with EVENT_SINK=bigquery');
    const { bigQueryEventSink } = await import('./bigquery.js');
    return bigQueryEventSink({ projectId: cfg.GOOGLE_CLOUD_PROJECT, dataset: cfg.BIGQUERY_DATASET });
  }
  const { postgresEventSink } = await import('./postgres.js');
  return postgresEventSink(database);
}
