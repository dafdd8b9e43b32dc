import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './drizzle/schema/index.ts',
  out: './drizzle/migrations',
  casing: 'snake_case',
  schemaFilter: ['auth', 'projects', 'experiments_v1', 'production', 'quarantine', 'providers', 'audits', 'ops', 'analytics'],
});
