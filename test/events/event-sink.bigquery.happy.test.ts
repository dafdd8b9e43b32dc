process.env.METADATA_SERVER_DETECTION ??= 'none'; // no GCE metadata probes against the fake
import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { bigQueryEventSink } from '../../functions/shared/events/bigquery.js';
import { describeEventSink, requestLog } from '../contract/event-sink.contract.js';
import { startBigQueryFake } from '../fakes/bigquery.js';

const fake = await startBigQueryFake();
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const sinkFor = (timeoutMs = 5_000) => bigQueryEventSink({ projectId: fake.projectId, dataset: 'lattice_events', apiEndpoint: fake.url, timeoutMs });

describeEventSink('bigquery (real client, local REST fake)', async () => ({
  sink: sinkFor(),
  readBack: async (table) => fake.unique(table).map((r) => ({ ...r, ...(typeof r.payload === 'string' ? { payload: JSON.parse(r.payload) } : {}) })),
  outage: async () => {
    fake.failNext(10, 503);
    return sinkFor();
  },
  refuseBadStatus: () => fake.rejectRows((_table, row) => (Number(row.status) > 599 ? 'status out of range' : undefined)),
}));

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
