import { anthropicAdapter } from './anthropic.js';
import { geminiAdapter } from './gemini.js';
import { openAiAdapter } from './openai.js';
import { openAiCompatibleAdapter } from './openai_compatible.js';
import type { Adapter, ProviderKind } from './types.js';

export * from './types.js';

const adapters: Record<ProviderKind, Adapter> = {
  openai: openAiAdapter(),
  openai_compatible: openAiCompatibleAdapter(),
  anthropic: anthropicAdapter(),
  gemini: geminiAdapter(),
};

export const adapterFor = (kind: ProviderKind): Adapter => adapters[kind];
export { SseParser } from './sse.js';
export { supportedParams, unsupportedParams } from './params.js';
export { UnsupportedInput } from './openai-shapes.js';
export { embeddingAdapterFor, unsupportedEmbeddingParams, type EmbeddingRequest } from './embeddings.js';
