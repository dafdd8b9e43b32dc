import { geminiRequest, toolCallIdWithSignature } from './gemini-request.js';
import { choiceChunk, completionWithChoices, newToolCallId, type ToolCall, type TranslatedChoice } from './openai-shapes.js';
import { geminiError } from './provider-errors.js';
import {
  joinUrl, nonNegInt, openAiUsage, usageChunk, UpstreamStreamError,
  type Adapter, type StreamContext, type StreamTranslator, type Usage,
} from './types.js';

/** https://ai.google.dev/api/generate-content#FinishReason */
const FINISH: Record<string, string> = {
  STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter', SPII: 'content_filter', IMAGE_SAFETY: 'content_filter', LANGUAGE: 'content_filter',
};

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

type GeminiPart = { text?: string; thought?: boolean; thoughtSignature?: string; functionCall?: { name?: string; args?: unknown } };
type Candidate = { index?: number; content?: { parts?: GeminiPart[] }; finishReason?: string; logprobsResult?: LogprobsResult };
type LogprobsResult = { chosenCandidates?: { token?: string; logProbability?: number }[]; topCandidates?: { candidates?: { token?: string; logProbability?: number }[] }[] };
type GeminiResponse = { candidates?: Candidate[]; usageMetadata?: Record<string, unknown>; promptFeedback?: { blockReason?: string }; error?: unknown };

const toolCall = (p: GeminiPart): ToolCall => ({
  id: toolCallIdWithSignature(newToolCallId(), p.thoughtSignature),
  type: 'function',
  function: { name: String(p.functionCall?.name ?? ''), arguments: JSON.stringify(p.functionCall?.args ?? {}) },
});

/** https://ai.google.dev/api/generate-content#LogprobsResult → OpenAI's choice.logprobs. */
function logprobs(r: LogprobsResult | undefined): unknown {
  if (!r?.chosenCandidates) return undefined;
  return {
    content: r.chosenCandidates.map((c, i) => ({
      token: c.token ?? '', logprob: c.logProbability ?? 0, bytes: null,
      top_logprobs: (r.topCandidates?.[i]?.candidates ?? []).map((t) => ({ token: t.token ?? '', logprob: t.logProbability ?? 0, bytes: null })),
    })),
  };
}

/** A finished candidate that called functions ends with STOP; OpenAI clients expect tool_calls. */
const finishOf = (reason: string | undefined, calledTools: boolean) => (calledTools && reason === 'STOP' ? 'tool_calls' : (FINISH[reason ?? ''] ?? 'stop'));

export function geminiAdapter(): Adapter {
  return {
    kind: 'gemini',
    build({ baseUrl, apiKey, model, body, stream }) {
      const path = `/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
      return {
        url: joinUrl(baseUrl, path),
        method: 'POST',
        // The key goes in a header, never the query string (URLs end up in logs and proxies).
        headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
        body: JSON.stringify(geminiRequest(body, model)),
      };
    },
    parse(json, ctx) {
      const res = json as GeminiResponse;
      const u = readUsage(res.usageMetadata);
      const usage = u.prompt_tokens === undefined && u.completion_tokens === undefined ? undefined : { ...u, prompt_tokens: u.prompt_tokens ?? 0, completion_tokens: u.completion_tokens ?? 0 };
      const total = usage ? openAiUsage(usage) : undefined;
      // A blocked prompt has no candidates, only promptFeedback.blockReason (still billed for the prompt).
      if (!res.candidates?.length) {
        const blocked = res.promptFeedback?.blockReason !== undefined;
        return { body: completionWithChoices(ctx, [{ index: 0, content: blocked ? null : '', toolCalls: [], finishReason: blocked ? 'content_filter' : 'stop' }], total), usage };
      }
      const choices: TranslatedChoice[] = res.candidates.map((c, i) => {
        const ps = c.content?.parts ?? [];
        const toolCalls = ps.filter((p) => p.functionCall).map(toolCall);
        return {
          index: c.index ?? i,
          content: ps.filter((p) => !p.thought && typeof p.text === 'string').map((p) => p.text).join(''),
          reasoning: ps.filter((p) => p.thought && typeof p.text === 'string').map((p) => p.text).join(''),
          toolCalls,
          finishReason: finishOf(c.finishReason, toolCalls.length > 0),
          logprobs: logprobs(c.logprobsResult),
        };
      });
      return { body: completionWithChoices(ctx, choices, total), usage };
    },
    stream(ctx: StreamContext): StreamTranslator {
      let usage: Partial<Usage> = {};
      let chars = 0;
      let finished = false;
      const started = new Set<number>();
      const toolCounts = new Map<number, number>();
      return {
        push(ev) {
          let data: GeminiResponse;
          try {
            data = JSON.parse(ev.data);
          } catch {
            throw new UpstreamStreamError({ type: 'malformed_event', message: 'the provider sent an event that is not JSON' });
          }
          // A failure after the stream started arrives as a google.rpc.Status body in a data event.
          if (data.error) throw new UpstreamStreamError(geminiError(200, data));
          usage = { ...usage, ...readUsage(data.usageMetadata) };
          const out: Record<string, unknown>[] = [];
          const start = (index: number) => {
            if (started.has(index)) return;
            started.add(index);
            out.push(choiceChunk(ctx, index, { role: 'assistant', content: '' }));
          };
          if (!data.candidates?.length && data.promptFeedback?.blockReason) {
            start(0);
            finished = true;
            out.push(choiceChunk(ctx, 0, {}, 'content_filter'));
            return out;
          }
          (data.candidates ?? []).forEach((cand, i) => {
            const index = cand.index ?? i;
            start(index);
            for (const p of cand.content?.parts ?? []) {
              if (p.functionCall) {
                const n = toolCounts.get(index) ?? 0;
                toolCounts.set(index, n + 1);
                const call = toolCall(p);
                chars += call.function.name.length + call.function.arguments.length;
                // Gemini sends each call whole; OpenAI clients accept one delta carrying all of it.
                out.push(choiceChunk(ctx, index, { tool_calls: [{ index: n, ...call }] }));
              } else if (typeof p.text === 'string' && p.text) {
                chars += p.text.length;
                out.push(choiceChunk(ctx, index, p.thought ? { reasoning_content: p.text } : { content: p.text }));
              }
            }
            if (cand.finishReason) {
              finished = true;
              const lp = logprobs(cand.logprobsResult);
              const last = choiceChunk(ctx, index, {}, finishOf(cand.finishReason, (toolCounts.get(index) ?? 0) > 0));
              if (lp) (last.choices as Record<string, unknown>[])[0]!.logprobs = lp;
              out.push(last);
            }
          });
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
