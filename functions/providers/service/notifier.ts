import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../../shared/http/index.js';
import { createUrlGuard, type UrlGuard } from './ssrf.js';

/** The Notifier port: where fired cost alerts go. Adapters: signed webhook, structured log. */
export interface AlertNotification {
  alert_id: string;
  org_id: string;
  user_id: string | null;
  period: 'daily' | 'monthly';
  period_start: string;
  metric: 'tokens' | 'cost';
  threshold_percent: number;
  used: number;
  limit: number;
  percent: number;
  channel: 'webhook' | 'log';
  target: string | null;
  fired_at: string;
}

export interface Notifier {
  notify(n: AlertNotification): Promise<void>;
}

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

export function webhookNotifier(options: { secret: string; production: boolean; timeoutMs?: number; guard?: UrlGuard }): Notifier {
  const guard = options.guard ?? createUrlGuard({ production: options.production });
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

export function logNotifier(log: Logger): Notifier {
  return {
    async notify(n) {
      log.warn('cost alert fired', { alert: n });
    },
  };
}

/** Routes each alert to the adapter of its channel. */
export function channelNotifier(adapters: { webhook: Notifier; log: Notifier }): Notifier {
  return { notify: (n) => adapters[n.channel].notify(n) };
}
