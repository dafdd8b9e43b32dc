import { UnsupportedInput } from './openai-shapes.js';
import { joinUrl, nonNegInt, type ProviderKind, type UpstreamRequest } from './types.js';

/**
 * POST /v1/embeddings translated per provider. OpenAI and compatible servers take the request as sent
 * (https://platform.openai.com/docs/api-reference/embeddings/create). Gemini takes
 * models/{m}:batchEmbedContents with one EmbedContentRequest per input and answers `embeddings[].values`
 * (https://ai.google.dev/api/embeddings#method:-models.batchembedcontents); it reports no token usage,
 * so the gateway bills its own estimate. Anthropic has no embeddings endpoint.
 */
export interface EmbeddingRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64' | null;
  dimensions?: number | null;
  user?: string | null;
  [k: string]: unknown;
}

export interface EmbeddingAdapter {
  build(args: { baseUrl: string; apiKey: string; model: string; body: EmbeddingRequest }): UpstreamRequest;
  /** OpenAI's embedding list (model echoed as the client named it) and the provider's usage, if any. */
  parse(json: unknown, args: { model: string; body: EmbeddingRequest }): { body: Record<string, unknown>; promptTokens?: number };
}

/** OpenAI's base64 encoding: the float32 little-endian bytes of the vector. */
export function floatsToBase64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

const openAi: EmbeddingAdapter = {
  build: ({ baseUrl, apiKey, model, body }) => ({
    url: joinUrl(baseUrl, '/embeddings'),
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ ...body, model }),
  }),
  parse: (json, { model }) => {
    const body: Record<string, unknown> = { ...(json as Record<string, unknown>), model };
    return { body, promptTokens: nonNegInt((body.usage as Record<string, unknown> | undefined)?.prompt_tokens) };
  },
};

const texts = (input: EmbeddingRequest['input']): string[] => {
  const list = Array.isArray(input) ? input : [input];
  if (!list.every((t) => typeof t === 'string')) throw new UnsupportedInput('input', 'Gemini embeds text: send strings, not token arrays');
  return list as string[];
};

const gemini: EmbeddingAdapter = {
  build: ({ baseUrl, apiKey, model, body }) => {
    const requests = texts(body.input).map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(body.dimensions ? { outputDimensionality: body.dimensions } : {}),
    }));
    return {
      url: joinUrl(baseUrl, `/models/${encodeURIComponent(model)}:batchEmbedContents`),
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
      body: JSON.stringify({ requests }),
    };
  },
  parse: (json, { model, body }) => {
    const embeddings = ((json as { embeddings?: { values?: number[] }[] }).embeddings ?? []).map((e) => e.values ?? []);
    const base64 = body.encoding_format === 'base64';
    return {
      body: {
        object: 'list',
        data: embeddings.map((values, index) => ({ object: 'embedding', index, embedding: base64 ? floatsToBase64(values) : values })),
        model,
      },
    };
  },
};

const EMBEDDERS: Partial<Record<ProviderKind, EmbeddingAdapter>> = { openai: openAi, openai_compatible: openAi, gemini };
export const embeddingAdapterFor = (kind: ProviderKind): EmbeddingAdapter | undefined => EMBEDDERS[kind];

/** Gemini has no user field (https://ai.google.dev/api/embeddings#EmbedContentRequest). */
export function unsupportedEmbeddingParams(kind: ProviderKind, body: EmbeddingRequest): string[] {
  if (kind !== 'gemini') return [];
  const known = new Set(['model', 'input', 'encoding_format', 'dimensions', 'drop_params']);
  return Object.entries(body).filter(([k, v]) => v !== null && v !== undefined && !known.has(k)).map(([k]) => k);
}
