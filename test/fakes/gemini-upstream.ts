import { json, script, sleep, sse, startUpstream, textOf, type FakeUpstream } from './upstream-core.js';

/** Fake Gemini API: models/{m}:generateContent and :streamGenerateContent?alt=sse, usageMetadata on chunks. */
export async function startGeminiUpstream(options: { apiKey?: string } = {}): Promise<FakeUpstream> {
  return startUpstream('/v1beta', async (req, res, control) => {
    if (options.apiKey && req.headers['x-goog-api-key'] !== options.apiKey) {
      return json(res, 400, { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } });
    }
    const path = req.path.split('?')[0]!;
    if (req.method === 'GET' && path === '/v1beta/models') return json(res, 200, { models: [{ name: 'models/gemini-2.0-flash' }] });
    const m = path.match(/^\/v1beta\/models\/([^:]+):(generateContent|streamGenerateContent)$/);
    if (req.method !== 'POST' || !m) return json(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
    const body = req.body;
    const contents: any[] = body.contents ?? [];
    const partsText = (c: any) => (c?.parts ?? []).map((p: any) => p.text ?? '').join('');
    const lastUser = partsText([...contents].reverse().find((c) => c.role === 'user'));
    const texts = [...(body.systemInstruction ? [partsText(body.systemInstruction)] : []), ...contents.map(partsText)];
    const s = script(texts.map(textOf), lastUser);
    const forced = control.failed();
    if (forced || s.fail) {
      const status = forced ?? s.fail!;
      return json(res, status, { error: { code: status, message: 'The model is overloaded.', status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE' } });
    }
    if (s.hang) return;
    const usageMetadata = { promptTokenCount: s.promptTokens, candidatesTokenCount: s.reply.length, totalTokenCount: s.promptTokens + s.reply.length };
    const responseId = `gem-fake${Date.now()}`;
    if (m[2] === 'generateContent') {
      return json(res, 200, {
        candidates: [{ content: { role: 'model', parts: [{ text: s.reply.join('') }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata, modelVersion: m[1], responseId,
      });
    }
    sse(res);
    for (let i = 0; i < s.reply.length; i++) {
      if (res.destroyed) return;
      if (s.slowMs) await sleep(s.slowMs);
      const last = i === s.reply.length - 1;
      res.write(`data: ${JSON.stringify({
        candidates: [{ content: { role: 'model', parts: [{ text: s.reply[i] }] }, ...(last ? { finishReason: 'STOP' } : {}), index: 0 }],
        usageMetadata: last ? usageMetadata : { promptTokenCount: s.promptTokens, totalTokenCount: s.promptTokens },
        modelVersion: m[1], responseId,
      })}\r\n\r\n`);
    }
    res.end();
  });
}
