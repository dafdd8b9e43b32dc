import auditEventsSchema from '../../../terraform/bigquery/schemas/audit_events.json' with { type: 'json' };
import dailyUsageSchema from '../../../terraform/bigquery/schemas/daily_usage.json' with { type: 'json' };
import requestLogsSchema from '../../../terraform/bigquery/schemas/request_logs.json' with { type: 'json' };
import type { SinkTable } from './port.js';

/** A BigQuery JSON schema field, as terraform's google_bigquery_table `schema` reads it. */
export interface SchemaField {
  name: string;
  type: 'STRING' | 'INTEGER' | 'INT64' | 'TIMESTAMP' | 'DATE' | 'BOOLEAN' | 'BOOL' | 'JSON' | 'FLOAT' | 'FLOAT64';
  mode?: 'REQUIRED' | 'NULLABLE' | 'REPEATED';
  description?: string;
}

/** The same files terraform applies: code and tables cannot drift apart. */
export const tableSchemas: Record<SinkTable, SchemaField[]> = {
  request_logs: requestLogsSchema as SchemaField[],
  audit_events: auditEventsSchema as SchemaField[],
  daily_usage: dailyUsageSchema as SchemaField[],
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INT = /^-?\d{1,19}$/;

function typeError(field: SchemaField, value: unknown): string | undefined {
  switch (field.type) {
    case 'STRING':
      return typeof value === 'string' ? undefined : 'expected a string';
    case 'INTEGER':
    case 'INT64':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? undefined : 'expected an integer';
      return typeof value === 'string' && INT.test(value) ? undefined : 'expected an integer';
    case 'FLOAT':
    case 'FLOAT64':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'expected a number';
    case 'BOOLEAN':
    case 'BOOL':
      return typeof value === 'boolean' ? undefined : 'expected a boolean';
    case 'DATE':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'expected YYYY-MM-DD';
    case 'TIMESTAMP':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? undefined : 'expected an ISO 8601 timestamp';
    case 'JSON':
      if (typeof value !== 'string') return 'expected a JSON document encoded as a string';
      try {
        JSON.parse(value);
        return undefined;
      } catch {
        return 'expected valid JSON';
      }
    default:
      return `unsupported type ${String(field.type)}`;
  }
}

/** Validates one row against a table's JSON schema; returns every problem (empty when valid). */
export function validateRow(schema: SchemaField[], row: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const known = new Set(schema.map((f) => f.name));
  for (const key of Object.keys(row)) if (!known.has(key)) errors.push(`${key}: no such field`);
  for (const field of schema) {
    const value = row[field.name];
    if (value === undefined || value === null) {
      if (field.mode === 'REQUIRED') errors.push(`${field.name}: required`);
      continue;
    }
    if (field.mode === 'REPEATED') {
      if (!Array.isArray(value)) errors.push(`${field.name}: expected an array`);
      else value.forEach((v, i) => {
        const e = typeError(field, v);
        if (e) errors.push(`${field.name}[${i}]: ${e}`);
      });
      continue;
    }
    const e = typeError(field, value);
    if (e) errors.push(`${field.name}: ${e}`);
  }
  return errors;
}
