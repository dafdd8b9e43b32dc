process.env.METADATA_SERVER_DETECTION ??= 'none'; // no GCE metadata probes against the fake
import { randomUUID } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { bigQueryEventSink } from '../../../functions/shared/events/bigquery.js';
import { describeEventSink, eventSinkCases, requestLog, type EventSinkHarness } from '../../support/contracts/event-sink.contract.js';
import { DEDUP_WINDOW_MS, startBigQueryFake } from '../../fakes/bigquery.js';
import { dedupViewSql } from '../../support/bigquery-views.js';

const DATASET = 'lattice_events';
const fake = await startBigQueryFake();
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const sinkFor = (timeoutMs = 5_000) => bigQueryEventSink({ projectId: fake.projectId, dataset: DATASET, apiEndpoint: fake.url, timeoutMs });
const reader = new BigQuery({ projectId: fake.projectId, apiEndpoint: fake.url });

/** Client values (BigQueryDate, BigQueryTimestamp, JSON text) back to plain values. */
const plain = (row: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, k === 'payload' && typeof v === 'string' ? JSON.parse(v) : v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v]),
  );

const harness = (): EventSinkHarness => ({
  sink: sinkFor(),
  async readBack(table) {
    const [rows] = await reader.query({ query: await dedupViewSql(table, fake.projectId, DATASET) });
    return (rows as Record<string, unknown>[]).map(plain);
  },
  outage: async () => {
    fake.failNext(10, 503);
    return sinkFor();
  },
  refuseBadStatus: () => fake.rejectRows((_table, row) => (Number(row.status) > 599 ? 'status out of range' : undefined)),
  forgetDeliveries: () => fake.advanceClock(DEDUP_WINDOW_MS),
});

describeEventSink('bigquery (real client, local REST fake, queries evaluated by PostgreSQL)', async () => harness());

describe('BigQuery adapter specifics', () => {
  it('streams with insertId = event_id', async () => {
    const event = requestLog(randomUUID());
    await sinkFor().send([event]);
    expect(fake.rows('request_logs')).toEqual([expect.objectContaining({ insertId: event.eventId })]);
  });

  it('a request that times out is a transient failure of the batch', async () => {
    fake.timeoutNext(1);
    const event = requestLog(randomUUID());
    const result = await sinkFor(300).send([event]);
    expect(result).toEqual({ delivered: [], failed: [{ eventId: event.eventId, error: expect.any(String), permanent: false }] });
  });

  it('reads reconciliation totals through jobs.query and getQueryResults while the job is still running', async () => {
    const orgId = randomUUID();
    await sinkFor().send([requestLog(orgId), requestLog(orgId, { cost_micros: 8 })]);
    fake.incompleteQueries(2);
    const totals = await sinkFor().requestLogTotals(new Date().toISOString().slice(0, 10));
    expect(totals).toEqual([{ orgId, requests: 2, promptTokens: 20, completionTokens: 10, costMicros: 50 }]);
    expect(fake.calls.getQueryResults).toBeGreaterThanOrEqual(1);
  });
});

// insertId de-duplication is "best effort" for "at least one minute"
// (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataconsistency): the fake keeps that
// window and no longer, so redelivery after it really stores a second row.
describe('the fake keeps insertId de-duplication to its documented window', () => {
  it('a redelivery inside the window is dropped, one after it is stored again', async () => {
    const event = requestLog(randomUUID());
    await sinkFor().send([event]);
    fake.advanceClock(DEDUP_WINDOW_MS - 1_000);
    await sinkFor().send([event]);
    expect(fake.rows('request_logs')).toHaveLength(1);
    fake.advanceClock(1_000);
    await sinkFor().send([event]);
    expect(fake.rows('request_logs').map((r) => r.insertId)).toEqual([event.eventId, event.eventId]);
  });
});

/**
 * Mutation tests: each de-duplication or day filter the contract relies on lives in the product's (or the
 * terraform view's) SQL text, so deleting that clause from the text the fake receives must make the
 * contract case fail, with an assertion, not a query error.
 */
describe('the contract cases fail when a clause of the SQL is deleted', () => {
  async function runMutated(caseName: string, clause: RegExp): Promise<{ error: unknown; removed: number }> {
    let removed = 0;
    fake.mutateQueries((sql) => {
      const mutated = sql.replace(clause, '');
      if (mutated !== sql) removed++;
      return mutated;
    });
    const error = await eventSinkCases[caseName]!(harness()).then(() => undefined, (e: unknown) => e);
    return { error, removed };
  }

  it.each([
    ['QUALIFY (product: one row per event_id)', 'redelivering the same event ids does not add rows', /^\s*QUALIFY ROW_NUMBER\(\).*$/m],
    ['WHERE occurred_at (product: one UTC day)', 'reconciliation totals count one UTC day only', /^\s*WHERE occurred_at >= .*$/m],
    ['WHERE dedup_rank = 1 (terraform dedup view)', 'redelivering the same event ids does not add rows', /^\s*WHERE dedup_rank = 1\s*$/m],
  ])('without %s', async (_clause, caseName, clause) => {
    const { error, removed } = await runMutated(caseName, clause);
    expect(removed).toBeGreaterThan(0);
    expect((error as Error | undefined)?.name).toBe('AssertionError');
  });
});
