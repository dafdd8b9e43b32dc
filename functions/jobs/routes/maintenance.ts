import { evaluateCostAlerts, reclaimExpiredLeases, releaseExpiredReservations } from '../../providers/service/maintenance.js';
import type { JobDefinition } from './jobs.js';

/** Scheduler entry points for work the providers domain owns (its module holds the logic). */
export const maintenanceJobs: JobDefinition[] = [
  {
    path: '/cost-alerts',
    summary: 'Fire due cost alerts of every org, once per period, through their channel.',
    exclusive: true,
    run: async (s) => ({ ...(await evaluateCostAlerts(s.database, s.notifier)) }),
  },
  {
    path: '/release-reservations',
    summary: 'Give back quota reservations and gateway quota leases that outlived their expiry (a killed instance).',
    exclusive: false, // SKIP LOCKED batches / locks re-checked: parallel runs do not collide
    run: async (s) => ({ ...(await releaseExpiredReservations(s.database)), leases_reclaimed: (await reclaimExpiredLeases(s.database)).reclaimed }),
  },
];
