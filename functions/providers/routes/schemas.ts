import { z } from '@hono/zod-openapi';
import { idParams, noContent as noContentResponse, ok } from '../../shared/http/openapi.js';

/** The kernel's route kit under the names these routes use. */
export const Uuid = z.uuid();
export const IdParam = idParams;
export const json = ok;
export const noContent = noContentResponse[204];
