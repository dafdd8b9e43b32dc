// Every PostgreSQL schema of the database, one file each (drizzle.config.ts points here).
export * from './auth.js';
export * from './projects.js';
export * from './experiments_v1.js';
export * from './production.js';
export * from './quarantine.js';
export * from './providers.js';
export * from './audits.js';
export * from './ops.js';
export * from './analytics.js';
