export { createApp, validationHook, type AppOptions } from './app.js';
export { requireAuth, requireRole, assertRole, bearerToken } from './auth.js';
export type { FunctionEnv, KernelEnv, KernelServices, KernelVariables } from './context.js';
export { etagOf, setEtag, expectedVersion } from './etag.js';
export { clientAddress, clientIp } from './client-ip.js';
export { createLogger, rootLogger, redact, setLogSink, type Logger } from './logger.js';
export { paginationQuery, page, encodeCursor, decodeCursor } from './pagination.js';
export { HttpProblem, problems, problemType, type ProblemBody } from './problem.js';
export { jsonBody, problemResponses, ProblemSchema } from './openapi.js';
