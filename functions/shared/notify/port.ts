/**
 * The Notifier port: where fired cost alerts go. Providers (settle) and jobs (scheduled evaluation) both
 * fire them; adapters: the signed webhook (webhook.ts) and the structured log, routed per channel (index.ts).
 */
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

/**
 * What the webhook adapter needs of the SSRF rule for user-supplied URLs: a check of the target and a
 * fetch that connects only to addresses the rule allows (the providers' UrlGuard is one).
 */
export interface OutboundGuard {
  check(raw: string, field?: string): Promise<URL>;
  fetch(url: string, init: RequestInit): Promise<Response>;
}
