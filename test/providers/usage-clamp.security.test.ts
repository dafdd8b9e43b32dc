import { describe, expect, it } from 'vitest';
import { adapterFor } from '../../functions/providers/adapters/index.js';
import { MAX_USAGE_TOKENS } from '../../functions/providers/adapters/types.js';

/** A usage number from a provider (or a user's base URL) is clamped where it is read: it cannot reach the settle batch as 1e19. */
const ctx = { model: 'openai/gpt-4o-mini', id: 'chatcmpl-1', created: 0, includeUsage: false };

describe('usage numbers from upstream', () => {
  it('OpenAI usage beyond 2^31 - 1 is clamped, a normal one kept', () => {
    const answer = (prompt: number) => ({ choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: prompt, completion_tokens: 3, total_tokens: prompt + 3 } });
    expect(adapterFor('openai').parse(answer(1e19), ctx).usage).toMatchObject({ prompt_tokens: MAX_USAGE_TOKENS, completion_tokens: 3 });
    expect(adapterFor('openai').parse(answer(12), ctx).usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 3 });
  });

  it('Anthropic usage beyond 2^31 - 1 is clamped', () => {
    const answer = { id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', usage: { input_tokens: 1e19, output_tokens: 2e19 } };
    const usage = adapterFor('anthropic').parse(answer, ctx).usage!;
    expect(usage.prompt_tokens).toBeLessThanOrEqual(MAX_USAGE_TOKENS);
    expect(usage.completion_tokens).toBe(MAX_USAGE_TOKENS);
  });
});
