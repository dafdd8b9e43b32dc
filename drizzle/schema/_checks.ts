import { sql } from 'drizzle-orm';

/** `'a', 'b', 'c'` for `CHECK (col IN (…))` from the exported value arrays (values are our own literals). */
export const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** Lower-case SHA-256 hex: token, code and config hashes. */
export const hex64 = (col: unknown) => sql`${col} ~ '^[0-9a-f]{64}$'`;

/** URL slugs: lower-case words joined by single dashes, at most 63 characters. */
export const slugCheck = (col: unknown) => sql`${col} ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' and length(${col}) <= 63`;
