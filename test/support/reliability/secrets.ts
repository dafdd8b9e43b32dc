import type { Exchange } from './checks.js';

/** Members whose string values are secrets, in requests and in responses. */
const SECRET_KEY = /^(password|new_password|current_password|api_key|key|access_token|refresh_token|mfa_token|token|secret|invitation_code|recovery_codes|otpauth_uri|reset_token)$/;

/** Personal data that logs must not hold either (they are read by more people than the database). */
const PERSONAL_KEY = /^email$/;

function collect(value: unknown, out: Set<string>, key = ''): void {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && value.length >= 8) out.add(value);
    if (PERSONAL_KEY.test(key) && /^[^@\s]{2,}@[^@\s]{3,}$/.test(value.trim())) out.add(value.trim());
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, key);
    return;
  }
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collect(v, out, k);
}

/**
 * Every secret that went over the wire in these exchanges (sent or received), every email address,
 * plus the callers' own access tokens. The TOTP secret is also looked for inside its otpauth:// URI.
 */
export function secretsIn(exchanges: Exchange[], tokens: string[] = []): string[] {
  const out = new Set<string>(tokens.filter(Boolean));
  for (const x of exchanges) {
    collect(x.json, out);
    if (x.requestBody) {
      try {
        collect(JSON.parse(x.requestBody), out);
      } catch {
        // not JSON: nothing structured to collect
      }
    }
  }
  for (const s of [...out]) {
    const m = /secret=([A-Z2-7]+)/.exec(s);
    if (m) out.add(m[1]!);
  }
  return [...out];
}
