import {
  chunk, completionBody, joinUrl, nonNegInt, stopList, textOf, usageChunk, UpstreamStreamError,
  type Adapter, type ChatRequest, type StreamContext, type StreamTranslator, type Usage,
} from './types.js';
import { geminiError } from './provider-errors.js';

const FINISH: Record<string, string> = { STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', BLOCKLIST: 'content_filter', PROHIBITED_CONTENT: 'content_filter', SPII: 'content_filter' };

function toContents(body: ChatRequest) {
  const system: string[] = [];
  const contents: { role: 'user' | 'model'; parts: { text: string }[] }[] = [];
  for (const m of body.messages) {
    const text = textOf(m.content);
    if (m.role === 'system' || m.role === 'developer') system.push(text);
    else contents.push({ role: m.role === 'assistant' ? 'model' : 'user', parts: [{ text }] });
  }
  return { systemInstruction: system.length ? { parts: [{ text: system.join('\n\n') }] } : undefined, contents };
}

/**
 * usageMetadata (ai.google.dev/api/generate-content#UsageMetadata): promptTokenCount already includes
 * cachedContentTokenCount; toolUsePromptTokenCount is input too; thoughtsTokenCount is output billed
 * at the output price but not part of candidatesTokenCount.
 */
function readUsage(meta: Record<string, unknown> | undefined): Partial<Usage> {
  if (!meta) return {};
  const p = nonNegInt(meta.promptTokenCount);
  const tool = nonNegInt(meta.toolUsePromptTokenCount) ?? 0;
  const cached = nonNegInt(meta.cachedContentTokenCount);
  const c = nonNegInt(meta.candidatesTokenCount);
  const t = nonNegInt(meta.thoughtsTokenCount);
  return {
    ...(p !== undefined ? { prompt_tokens: p + tool } : {}),
    ...(c !== undefined || t !== undefined ? { completion_tokens: (c ?? 0) + (t ?? 0) } : {}),
    ...(cached ? { cached_tokens: cached } : {}),
    ...(t ? { reasoning_tokens: t } : {}),
  };
}

type Candidate = { content?: { parts?: { text?: string; thought?: boolean }[] }; finishReason?: string };
const candidateText = (c: Candidate | undefined) => (c?.content?.parts ?? []).filter((p) => !p.thought).map((p) => p.text ?? '').join('');

export function geminiAdapter(): Adapter {
  return {
    kind: 'gemini',
    build({ baseUrl, apiKey, model, body, stream }) {
      const { systemInstruction, contents } = toContents(body);
      // maxOutputTokens is optional (the model's own limit applies): only the client's cap is sent.
      const cap = body.max_completion_tokens ?? body.max_tokens;
      const generationConfig: Record<string, unknown> = cap != null ? { maxOutputTokens: cap } : {};
      if (body.temperature != null) generationConfig.temperature = body.temperature;
      if (body.top_p != null) generationConfig.topP = body.top_p;
      if (stopList(body.stop)) generationConfig.stopSequences = stopList(body.stop);
      const path = `/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
      return {
        url: joinUrl(baseUrl, path),
        method: 'POST',
        // The key goes in a header, never the query string (URLs end up in logs and proxies).
        headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
        body: JSON.stringify({ contents, ...(systemInstruction ? { systemInstruction } : {}), generationConfig }),
      };
    },
    parse(json, ctx) {
      const res = json as { candidates?: Candidate[]; usageMetadata?: Record<string, unknown> };
      const u = readUsage(res.usageMetadata);
      const usage = u.prompt_tokens === undefined && u.completion_tokens === undefined ? undefined : { ...u, prompt_tokens: u.prompt_tokens ?? 0, completion_tokens: u.completion_tokens ?? 0 };
      const first = res.candidates?.[0];
      return { body: completionBody(ctx, candidateText(first), FINISH[first?.finishReason ?? ''] ?? 'stop', usage), usage };
    },
    stream(ctx: StreamContext): StreamTranslator {
      let usage: Partial<Usage> = {};
      let chars = 0;
      let started = false;
      let finished = false;
      return {
        push(ev) {
          let data: { candidates?: Candidate[]; usageMetadata?: Record<string, unknown>; error?: unknown };
          try {
            data = JSON.parse(ev.data);
          } catch {
            throw new UpstreamStreamError({ type: 'malformed_event', message: 'the provider sent an event that is not JSON' });
          }
          // A failure after the stream started arrives as a google.rpc.Status body in a data event.
          if (data.error) throw new UpstreamStreamError(geminiError(200, data));
          usage = { ...usage, ...readUsage(data.usageMetadata) };
          const out: Record<string, unknown>[] = [];
          if (!started) {
            started = true;
            out.push(chunk(ctx, { role: 'assistant', content: '' }));
          }
          const cand = data.candidates?.[0];
          const text = candidateText(cand);
          if (text) {
            chars += text.length;
            out.push(chunk(ctx, { content: text }));
          }
          if (cand?.finishReason) {
            finished = true;
            out.push(chunk(ctx, {}, FINISH[cand.finishReason] ?? 'stop'));
          }
          return out;
        },
        finish: () => (finished && ctx.includeUsage ? [usageChunk(ctx, usage)] : []),
        usage: () => usage,
        producedChars: () => chars,
        ended: () => finished,
      };
    },
    error: geminiError,
    verify(baseUrl, apiKey) {
      return { url: joinUrl(baseUrl, '/models?pageSize=1'), method: 'GET', headers: { 'x-goog-api-key': apiKey } };
    },
  };
}
