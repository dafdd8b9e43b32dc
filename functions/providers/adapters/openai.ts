import {
  joinUrl, nonNegInt, textOf, UpstreamStreamError,
  type Adapter, type BuildArgs, type ProviderKind, type StreamContext, type StreamTranslator, type Usage,
} from './types.js';

/**
 * OpenAI Chat Completions, and any OpenAI-compatible server (`openai_compatible`): the request passes
 * through with the upstream model id; streams ask for `stream_options.include_usage` so streamed calls
 * are billed from the provider's own usage, and that usage chunk reaches the client only if it asked.
 */
export function openAiAdapter(kind: Extract<ProviderKind, 'openai' | 'openai_compatible'> = 'openai'): Adapter {
  return {
    kind,
    build({ baseUrl, apiKey, model, body, stream, maxTokens }: BuildArgs) {
      const out: Record<string, unknown> = { ...body, model, stream };
      if (stream) out.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
      else delete out.stream_options;
      if (body.max_tokens == null && body.max_completion_tokens == null) {
        // Compatible servers often know only the older name.
        out[kind === 'openai' ? 'max_completion_tokens' : 'max_tokens'] = maxTokens;
      }
      return {
        url: joinUrl(baseUrl, '/chat/completions'),
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(out),
      };
    },
    parse(json, ctx) {
      const body: Record<string, unknown> = { ...(json as Record<string, unknown>), model: ctx.model };
      const usage = readUsage(body.usage);
      return { body, usage };
    },
    stream(ctx: StreamContext): StreamTranslator {
      let usage: Partial<Usage> = {};
      let chars = 0;
      return {
        push(ev) {
          if (ev.data === '[DONE]') return [];
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(ev.data) as Record<string, unknown>;
          } catch {
            return [];
          }
          if (parsed.error) throw new UpstreamStreamError('the provider reported an error mid-stream');
          const u = readUsage(parsed.usage);
          if (u) usage = u;
          const choices = Array.isArray(parsed.choices) ? (parsed.choices as { delta?: { content?: unknown } }[]) : [];
          for (const c of choices) chars += textOf(c?.delta?.content).length;
          if (!ctx.includeUsage) {
            if (!choices.length && parsed.usage) return [];
            delete parsed.usage;
          }
          return [{ ...parsed, model: ctx.model }];
        },
        finish: () => [],
        usage: () => usage,
        producedChars: () => chars,
      };
    },
    verify(baseUrl, apiKey) {
      return { url: joinUrl(baseUrl, '/models'), method: 'GET', headers: { authorization: `Bearer ${apiKey}` } };
    },
  };
}

function readUsage(u: unknown): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const p = nonNegInt((u as Record<string, unknown>).prompt_tokens);
  const c = nonNegInt((u as Record<string, unknown>).completion_tokens);
  return p === undefined && c === undefined ? undefined : { prompt_tokens: p ?? 0, completion_tokens: c ?? 0 };
}
