/**
 * Streams as the providers put them on the wire, byte for byte, for the relay's property tests. Each
 * follows the provider's documented event order; the usage each one reports is stated beside it.
 */
export interface Recorded {
  label: string;
  kind: 'openai' | 'anthropic' | 'gemini';
  wire: string;
  /** What the client must read: the concatenated text, the finish reason and the usage. */
  text: string;
  finish: string;
  usage: { prompt_tokens: number; completion_tokens: number; cached?: number; reasoning?: number };
  /** A keep-alive this provider really sends between events. */
  keepAlive: string;
}

const openAiChunk = (delta: object, finish: string | null, extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-rec1', object: 'chat.completion.chunk', created: 1764720000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_rec', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;

/**
 * OpenAI Chat Completions streaming with `stream_options: {include_usage: true}`
 * (platform.openai.com/docs/api-reference/chat-streaming): role chunk, content deltas, a finish chunk,
 * then a chunk with `choices: []` and the usage, then `data: [DONE]`. Non-ASCII text splits inside
 * UTF-8 sequences when cut at every byte.
 */
const openai: Recorded = {
  label: 'OpenAI',
  kind: 'openai',
  wire:
    openAiChunk({ role: 'assistant', content: '', refusal: null }, null) +
    openAiChunk({ content: 'Grüße' }, null) +
    openAiChunk({ content: ', monde ' }, null) +
    openAiChunk({ content: '🌍!' }, null) +
    openAiChunk({}, 'stop') +
    `data: ${JSON.stringify({ id: 'chatcmpl-rec1', object: 'chat.completion.chunk', created: 1764720000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_rec', choices: [], usage: { prompt_tokens: 19, completion_tokens: 6, total_tokens: 25, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 } } })}\n\n` +
    'data: [DONE]\n\n',
  text: 'Grüße, monde 🌍!',
  finish: 'stop',
  usage: { prompt_tokens: 19, completion_tokens: 6 },
  // SSE comment lines are what proxies in front of OpenAI-compatible servers send (e.g. OpenRouter's ": OPENROUTER PROCESSING").
  keepAlive: ': keep-alive\n\n',
};

const anthropicEvent = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;

/**
 * Anthropic Messages streaming (docs.anthropic.com/en/docs/build-with-claude/streaming): message_start
 * (input usage, cache reads/writes), content_block_start, ping, text_delta deltas, content_block_stop,
 * message_delta (cumulative output_tokens), message_stop. Pings may come at any point.
 */
const anthropic: Recorded = {
  label: 'Anthropic',
  kind: 'anthropic',
  wire:
    anthropicEvent('message_start', { message: { id: 'msg_rec1', type: 'message', role: 'assistant', model: 'claude-3-5-haiku-20241022', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 2048, output_tokens: 1 } } }) +
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) +
    anthropicEvent('ping', {}) +
    anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Bonjour' } }) +
    anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' — ça va ?' } }) +
    anthropicEvent('content_block_stop', { index: 0 }) +
    anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }) +
    anthropicEvent('message_stop', {}),
  text: 'Bonjour — ça va ?',
  finish: 'stop',
  usage: { prompt_tokens: 12 + 2048, completion_tokens: 7, cached: 2048 },
  keepAlive: anthropicEvent('ping', {}),
};

/**
 * Gemini streamGenerateContent?alt=sse (ai.google.dev/api/generate-content#method:-models.streamgeneratecontent):
 * `data:` events separated by CRLF CRLF, usageMetadata on every chunk (final counts on the last),
 * thoughtsTokenCount billed as output, cachedContentTokenCount inside promptTokenCount.
 */
const geminiEvent = (obj: object) => `data: ${JSON.stringify(obj)}\r\n\r\n`;
const gemini: Recorded = {
  label: 'Gemini',
  kind: 'gemini',
  wire:
    geminiEvent({ candidates: [{ content: { parts: [{ text: 'Hallo' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 40, totalTokenCount: 40, cachedContentTokenCount: 32 }, modelVersion: 'gemini-2.5-flash', responseId: 'rec1' }) +
    geminiEvent({ candidates: [{ content: { parts: [{ text: ' Welt, 日本語' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 40, totalTokenCount: 40, cachedContentTokenCount: 32 }, modelVersion: 'gemini-2.5-flash', responseId: 'rec1' }) +
    geminiEvent({ candidates: [{ content: { parts: [{ text: '.' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 40, candidatesTokenCount: 5, thoughtsTokenCount: 11, totalTokenCount: 56, cachedContentTokenCount: 32 }, modelVersion: 'gemini-2.5-flash', responseId: 'rec1' }),
  text: 'Hallo Welt, 日本語.',
  finish: 'stop',
  usage: { prompt_tokens: 40, completion_tokens: 16, cached: 32, reasoning: 11 },
  keepAlive: ': keep-alive\r\n\r\n',
};

export const RECORDED: Recorded[] = [openai, anthropic, gemini];

/** Splits the wire at event boundaries so keep-alives can be inserted between events. */
export function eventsOf(r: Recorded): string[] {
  const sep = r.kind === 'gemini' ? '\r\n\r\n' : '\n\n';
  return r.wire.split(sep).filter(Boolean).map((e) => e + sep);
}
