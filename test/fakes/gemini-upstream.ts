import type { ServerResponse } from 'node:http';
import { json, script, serveQueued, startUpstream, textOf, type FakeOptions, type FakeUpstream } from './upstream-core.js';
import { writeError, writeFrames } from './wire.js';
import { chunkBody, geminiErrors, geminiFrame, geminiHeaders, geminiJson, geminiProfile, geminiStreamHeaders, type GeminiChunkSpec } from './fixtures/gemini.js';

/**
 * Fake Gemini API (v1beta): models/{m}:generateContent, :streamGenerateContent (`?alt=sse`: `data: ...\r\n\r\n`
 * frames with cumulative usageMetadata; without alt=sse: one JSON array, as the API does), :embedContent,
 * :batchEmbedContents, models.list / models.get; errors as google.rpc.Status (fixtures/gemini.ts). The key is
 * accepted from `x-goog-api-key` or `?key=`; a wrong key is the API's 400 API_KEY_INVALID.
 *
 * Directives beyond upstream-core's: `[[think:N]]` reports N thoughtsTokenCount (and sends a `thought: true`
 * part when generationConfig.thinkingConfig.includeThoughts is set), `[[cache:N]]` N cachedContentTokenCount,
 * `[[blocked]]` blocks the prompt (promptFeedback.blockReason SAFETY, usage, no candidates), `[[finish:X]]` ends
 * with finishReason X. generationConfig.maxOutputTokens cuts the reply (one token per word, finishReason MAX_TOKENS),
 * candidateCount repeats the candidate under each index; a `contents` role such as assistant or system is a 400. Tools: `[[call:NAME]]` with functionDeclarations in the request answers functionCall parts;
 * a conversation ending in functionResponse parts gets `Echo: tool <response JSON>...`.
 */
export async function startGeminiUpstream(options: FakeOptions = {}): Promise<FakeUpstream> {
  return startUpstream(
    '/v1beta',
    async (req, res, control) => {
      const url = new URL(req.path, 'http://fake');
      const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
      if (options.apiKey && key !== options.apiKey) return writeError(res, geminiErrors.apiKeyInvalid());
      const path = url.pathname;
      if (req.method === 'GET' && path === '/v1beta/models') return listModels(res, url.searchParams.get('pageToken'));
      const get = path.match(/^\/v1beta\/models\/([^:]+)$/);
      if (req.method === 'GET' && get) {
        const found = (geminiJson.models.body as { models: any[] }).models.find((m) => m.name === `models/${get[1]}`);
        return found ? json(res, 200, found, geminiJson.models.headers) : writeError(res, geminiErrors.notFound(get[1]));
      }
      const forced = control.failed();
      if (forced) return writeError(res, failure(forced));
      const queued = await serveQueued(res, control.next(), geminiProfile, control);
      if (queued === true) return;
      const m = path.match(/^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$/);
      if (req.method !== 'POST' || !m) return writeError(res, { ...geminiErrors.notFound(), body: { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } } });
      const model = m[1]!;
      if (m[2] === 'embedContent' || m[2] === 'batchEmbedContents') return embed(res, m[2], req.body);
      const body = req.body;
      const contents: any[] = body.contents ?? [];
      // Turns are user or model (system text goes in systemInstruction); `function` is the older role of functionResponse turns.
      const badRole = contents.find((c) => c.role !== undefined && !['user', 'model', 'function'].includes(c.role));
      if (badRole) return writeError(res, geminiErrors.invalidArgument('Please use a valid role: user, model.'));
      const partsText = (c: any) => (c?.parts ?? []).map((p: any) => p.text ?? '').join('');
      const lastUser = partsText([...contents].reverse().find((c) => c.role === 'user' && c.parts?.some((p: any) => typeof p.text === 'string')));
      const texts = [...(body.systemInstruction ? [partsText(body.systemInstruction)] : []), ...contents.map(partsText)];
      const s = script(texts.map(textOf), lastUser);
      if (s.fail) return writeError(res, failure(s.fail));
      if (s.hang) return;
      const wire = control.wire({ ...(queued ?? {}), ...s.wire });
      const toolResults = ((contents.at(-1)?.parts ?? []) as any[]).filter((p) => p.functionResponse).map((p) => JSON.stringify(p.functionResponse.response ?? {}));
      const hasTools = (body.tools ?? []).some((t: any) => t.functionDeclarations?.length);
      const calls = hasTools && !toolResults.length ? functionCalls(lastUser) : [];
      const full = toolResults.length ? ['Echo:', ...toolResults.map((t) => ` tool ${t}`)] : s.reply;
      const reply = full.slice(0, Number(body.generationConfig?.maxOutputTokens ?? Infinity)); // one token per word
      const candidateCount = Math.max(1, Number(body.generationConfig?.candidateCount ?? 1));
      const num = (re: RegExp) => Number(lastUser.match(re)?.[1] ?? 0);
      const thoughts = num(/\[\[think:(\d+)\]\]/);
      const cached = Math.min(num(/\[\[cache:(\d+)\]\]/), s.promptTokens);
      const includeThoughts = !!body.generationConfig?.thinkingConfig?.includeThoughts;
      const base = { promptTokenCount: s.promptTokens, cachedContentTokenCount: cached, thoughtsTokenCount: thoughts };
      const finish = s.finish ?? (reply.length < full.length ? 'MAX_TOKENS' : 'STOP');

      let chunks: GeminiChunkSpec[];
      if (/\[\[blocked\]\]/.test(lastUser)) {
        chunks = [{ promptFeedback: { blockReason: 'SAFETY', safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }] }, usage: { promptTokenCount: s.promptTokens } }];
      } else if (calls.length) {
        const tokens = calls.length * 5;
        chunks = [{ parts: calls, finishReason: 'STOP', index: null, usage: { ...base, candidatesTokenCount: tokens } }];
      } else {
        chunks = reply.map((text, i) => ({
          parts: [{ text }],
          ...(i === reply.length - 1 ? { finishReason: finish } : {}),
          usage: { ...base, candidatesTokenCount: i + 1 },
        }));
        if (includeThoughts && thoughts) chunks.unshift({ parts: [{ text: '**Thinking**\n\nThe user wants an echo.', thought: true }], usage: { ...base } });
      }
      const responseId = `gem-fake${Date.now()}`;
      if (m[2] === 'generateContent') return json(res, 200, withCandidates(merge(model, chunks, responseId), candidateCount), geminiHeaders({ 'content-type': 'application/json; charset=UTF-8' }));
      const bodies = chunks.map((c) => withCandidates(chunkBody(model, c, responseId), candidateCount));
      if (url.searchParams.get('alt') !== 'sse') return json(res, 200, bodies, geminiHeaders({ 'content-type': 'application/json; charset=UTF-8' }));
      await writeFrames(res, bodies.map(geminiFrame), geminiProfile, wire, geminiStreamHeaders());
    },
    options.wire,
  );
}

/** candidateCount > 1: the same candidate under each index; candidatesTokenCount and the total count all of them. */
function withCandidates(body: any, count: number) {
  if (count <= 1 || !body.candidates) return body;
  const one = body.candidates[0];
  const u = body.usageMetadata;
  const candidates = (u.candidatesTokenCount ?? 0) * count;
  return {
    ...body,
    candidates: Array.from({ length: count }, (_, index) => ({ ...one, index })),
    usageMetadata: { ...u, candidatesTokenCount: candidates, totalTokenCount: u.totalTokenCount - (u.candidatesTokenCount ?? 0) + candidates },
  };
}

function failure(status: number) {
  switch (status) {
    case 400: return geminiErrors.invalidArgument();
    case 403: return geminiErrors.permissionDenied();
    case 404: return geminiErrors.notFound();
    case 429: return geminiErrors.resourceExhausted('0s');
    case 500: return geminiErrors.internal();
    case 503: return geminiErrors.unavailable();
    default: return { ...geminiErrors.internal(), status };
  }
}

/** A non-streamed answer is the stream's chunks merged: parts concatenated, last finishReason, last usage. */
function merge(model: string, chunks: GeminiChunkSpec[], responseId: string) {
  const last = chunks.at(-1)!;
  const parts = chunks.flatMap((c) => (c.parts ?? []) as any[]);
  const thought = parts.filter((p) => p.thought);
  const texts = parts.filter((p) => typeof p.text === 'string' && !p.thought);
  const other = parts.filter((p) => typeof p.text !== 'string');
  const merged = [...thought, ...(texts.length ? [{ text: texts.map((p) => p.text).join('') }] : []), ...other];
  return chunkBody(model, { ...last, parts: merged.length ? merged : undefined }, responseId);
}

function functionCalls(lastUser: string) {
  const names = [...lastUser.matchAll(/\[\[call:([A-Za-z0-9_-]+)\]\]/g)].map((m) => m[1]!);
  const text = lastUser.replace(/\[\[[^\]]*\]\]/g, '').trim();
  return names.map((name) => ({ functionCall: { name, args: { text } } }));
}

function listModels(res: ServerResponse, pageToken: string | null) {
  const { models, nextPageToken } = geminiJson.models.body as { models: unknown[]; nextPageToken: string };
  // Two pages, as the API paginates: the first names a nextPageToken, the second does not.
  const body = pageToken === nextPageToken ? { models: models.slice(1) } : { models: models.slice(0, 1), nextPageToken };
  json(res, 200, body, geminiJson.models.headers);
}

/** Deterministic vectors from the text (EMBED); taskType and outputDimensionality are honoured. */
function embed(res: ServerResponse, method: string, body: any) {
  const vector = (req: any) => {
    const text = (req?.content?.parts ?? []).map((p: any) => p.text ?? '').join('');
    const dims = Number(req?.outputDimensionality ?? 8);
    return { values: Array.from({ length: dims }, (_, d) => Number(((((text.length + 1) * (d + 7)) % 97) / 97 - 0.5).toFixed(6))) };
  };
  const headers = geminiHeaders({ 'content-type': 'application/json; charset=UTF-8' });
  if (method === 'embedContent') {
    if (!body?.content) return writeError(res, geminiErrors.invalidArgument('* EmbedContentRequest.content: contents is not specified\n'));
    return json(res, 200, { embedding: vector(body) }, headers);
  }
  if (!Array.isArray(body?.requests) || !body.requests.length) return writeError(res, geminiErrors.invalidArgument('* BatchEmbedContentsRequest.requests: requests is not specified\n'));
  json(res, 200, { embeddings: body.requests.map(vector) }, headers);
}
