import type { Logger } from '../http/logger.js';
import type { Notifier } from './port.js';

export type { AlertNotification, Notifier, OutboundGuard } from './port.js';
export { signPayload, verifySignature, webhookNotifier } from './webhook.js';

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
