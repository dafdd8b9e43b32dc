import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll } from 'vitest';
import { filesystemObjectStore, OBJECT_ROUTE, type FilesystemStore } from '../../../functions/shared/storage/filesystem.js';
import { describeObjectStore } from '../../support/contracts/object-store.contract.js';
import { listen } from '../../support/app.js';

let dir: string;
let server: Awaited<ReturnType<typeof listen>>;
let current: FilesystemStore | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lattice-objects-'));
  // The links point at a server that hands them to the store, as the projects function does in dev.
  const app = new Hono().all(`${OBJECT_ROUTE}*`, (c) => current!.serve(c.req.raw, c.req.path.slice(OBJECT_ROUTE.length)));
  server = await listen(createAdaptorServer({ fetch: app.fetch }) as never);
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describeObjectStore('filesystem (dev server links, HMAC-signed)', async () => {
  let skew = 0;
  current = filesystemObjectStore({ root: dir, baseUrl: server.url, now: () => new Date(Date.now() + skew) });
  return { store: current, advance: (s) => void (skew += s * 1000) };
});
