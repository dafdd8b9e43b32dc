import { z } from '@hono/zod-openapi';

export const Uuid = z.string().uuid();
export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });
export const Loose = (name: string) => z.looseObject({}).openapi(name);
export const json = (schema: z.ZodType, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
export const noContent = { description: 'No content' };
