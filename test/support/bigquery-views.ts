import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';

/**
 * The *_dedup views exactly as terraform/modules/bigquery/main.tf declares them, with the module's
 * interpolations filled in for one project and dataset: readers of the BigQuery tables go through these,
 * so the tests read through them too instead of de-duplicating on their own.
 */
let module: Promise<any> | undefined;

export async function dedupViewSql(table: string, projectId: string, dataset: string): Promise<string> {
  const file = new URL('../../terraform/modules/bigquery/main.tf', import.meta.url);
  const tf = await (module ??= parse('main.tf', readFileSync(file, 'utf8')));
  const query: string = tf.resource.google_bigquery_table.dedup[0].view[0].query;
  const tables = tf.locals[0].event_tables as Record<string, { partition_field: string }>;
  const partitionField = tables[table]?.partition_field;
  if (!partitionField) throw new Error(`terraform declares no event table ${table}`);
  const sql = query
    .replaceAll('${each.value.partition_field}', partitionField)
    .replaceAll('${var.project_id}', projectId)
    .replaceAll('${google_bigquery_dataset.events.dataset_id}', dataset)
    .replaceAll('${google_bigquery_table.event[each.key].table_id}', table);
  if (sql.includes('${')) throw new Error(`the dedup view has an interpolation this helper does not fill: ${sql}`);
  return sql;
}
