import { createHash } from 'node:crypto';

/**
 * A name-based UUID (RFC 9562 v8 layout over SHA-256): the same parts always give the same id, so an
 * event re-emitted by a rerun carries the event_id the sink already deduplicates on.
 */
export function deterministicUuid(...parts: (string | number | null | undefined)[]): string {
  const bytes = createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\u001f')).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
