import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Notifier, OutboundGuard } from './port.js';

/** HMAC-SHA256 over `${timestamp}.${body}` (Stripe-style): receivers reject stale or altered payloads. */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function verifySignature(secret: string, timestamp: number, body: string, signature: string, toleranceSeconds = 300, now = Date.now()): boolean {
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The webhook adapter: POSTs the signed alert to its target, through the SSRF guard (config.ts alertWebhookSecret signs). */
export function webhookNotifier(options: { secret: string; guard: OutboundGuard; timeoutMs?: number }): Notifier {
  const { guard } = options;
  return {
    async notify(n) {
      if (!n.target) throw new Error('webhook alert without a target');
      await guard.check(n.target, 'target');
      const body = JSON.stringify({ type: 'cost_alert.fired', data: n });
      const timestamp = Math.floor(Date.now() / 1000);
      // The pinned fetch: the socket opens only to an address the rule allows at connect time (rebinding).
      const res = await guard.fetch(n.target, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        headers: { 'content-type': 'application/json', 'x-lattice-timestamp': String(timestamp), 'x-lattice-signature': signPayload(options.secret, timestamp, body) },
        body,
      });
      await res.body?.cancel().catch(() => {});
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    },
  };
}
