import {
  mimeFromUrl, parseArguments, parseDataUri, partsOf, toolCallsOf, toolsOf, UnsupportedInput,
  type ToolChoice,
} from './openai-shapes.js';
import { stopList, type ChatRequest } from './types.js';

/**
 * OpenAI chat request → Gemini generateContent body (https://ai.google.dev/api/generate-content).
 * System/developer turns become systemInstruction; images become inlineData (data URIs) or fileData
 * (URLs); assistant tool calls become functionCall parts of a "model" turn and tool results
 * functionResponse parts of one "user" turn (a parallel call is answered in one turn,
 * https://ai.google.dev/gemini-api/docs/function-calling#parallel_function_calling).
 *
 * Gemini 3 requires each functionCall's thoughtSignature back in the next turn
 * (https://ai.google.dev/gemini-api/docs/thought-signatures); OpenAI clients only echo the tool call
 * id, so the signature travels inside it: `call_<random>__thought__<signature>`.
 */
type Part = Record<string, unknown>;
const SIGNATURE = '__thought__';

export const toolCallIdWithSignature = (id: string, signature: unknown) => (typeof signature === 'string' && signature ? `${id}${SIGNATURE}${signature}` : id);
const signatureOf = (id: string) => {
  const at = id.indexOf(SIGNATURE);
  return at < 0 ? undefined : id.slice(at + SIGNATURE.length);
};

function imagePart(url: unknown, param: string): Part {
  if (typeof url !== 'string' || !url) throw new UnsupportedInput(param, 'image_url.url is required');
  const data = parseDataUri(url);
  if (data) return { inlineData: { mimeType: data.mediaType, data: data.data } };
  if (!/^(https?|gs):\/\//i.test(url)) throw new UnsupportedInput(param, 'image_url.url must be a URL or a base64 data URI');
  const mimeType = mimeFromUrl(url);
  return { fileData: { fileUri: url, ...(mimeType ? { mimeType } : {}) } };
}

function parts(content: unknown, param: string, allowImages: boolean): Part[] {
  return partsOf(content).map((p, j) => {
    if (p.type === 'text' || p.type === 'refusal') return { text: String((p as { text?: unknown }).text ?? (p as { refusal?: unknown }).refusal ?? '') };
    if (p.type === 'image_url' && allowImages) return imagePart((p as { image_url?: { url?: unknown } }).image_url?.url, `${param}[${j}]`);
    throw new UnsupportedInput(`${param}[${j}]`, `content parts of type "${p.type}" cannot be sent to Gemini here`);
  });
}

function functionResponse(content: unknown): Record<string, unknown> {
  const text = typeof content === 'string' ? content : partsOf(content).map((p) => String((p as { text?: unknown }).text ?? '')).join('');
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // not JSON: wrapped below
  }
  return { result: text };
}

export function geminiContents(body: ChatRequest) {
  const system: Part[] = [];
  const contents: { role: 'user' | 'model'; parts: Part[] }[] = [];
  const names = new Map<string, string>();
  const push = (role: 'user' | 'model', ps: Part[]) => {
    if (!ps.length) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...ps);
    else contents.push({ role, parts: ps });
  };
  body.messages.forEach((m, i) => {
    const param = `messages[${i}].content`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...parts(m.content, param, false));
        break;
      case 'user':
        push('user', parts(m.content, param, true));
        break;
      case 'assistant': {
        const ps = parts(m.content, param, false).filter((p) => p.text !== '');
        toolCallsOf(m).forEach((call, j) => {
          const args = parseArguments(call.function?.arguments);
          if (!args) throw new UnsupportedInput(`messages[${i}].tool_calls[${j}].function.arguments`, 'arguments must be a JSON object');
          names.set(call.id, call.function.name);
          const signature = signatureOf(call.id);
          ps.push({ functionCall: { name: call.function.name, args }, ...(signature ? { thoughtSignature: signature } : {}) });
        });
        push('model', ps);
        break;
      }
      case 'tool': {
        const name = names.get(String(m.tool_call_id ?? ''));
        if (!name) throw new UnsupportedInput(`messages[${i}].tool_call_id`, 'a tool result must answer a tool call of an earlier assistant message');
        push('user', [{ functionResponse: { name, response: functionResponse(m.content) } }]);
        break;
      }
      default:
        throw new UnsupportedInput(`messages[${i}].role`, `role "${m.role}" cannot be sent to Gemini (use tools and role "tool")`);
    }
  });
  return { systemInstruction: system.length ? { parts: system } : undefined, contents };
}

function toolConfig(choice: ToolChoice | undefined): Record<string, unknown> | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (typeof choice === 'object' && choice.function?.name) return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  throw new UnsupportedInput('tool_choice', 'tool_choice must be auto, none, required or {type: "function", function: {name}}');
}

/**
 * reasoning_effort → thinkingConfig (https://ai.google.dev/gemini-api/docs/thinking): Gemini 2.5
 * takes a token budget, Gemini 3 and later a thinking level.
 */
const BUDGET: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 32768 };
const LEVEL: Record<string, string> = { none: 'minimal', minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };
function thinkingConfig(model: string, effort: unknown): Record<string, unknown> | undefined {
  if (effort === undefined || effort === null) return undefined;
  if (typeof effort !== 'string' || !(effort in BUDGET)) throw new UnsupportedInput('reasoning_effort', 'reasoning_effort must be none, minimal, low, medium, high or xhigh');
  return /gemini-(1|2)\./.test(model) ? { thinkingBudget: BUDGET[effort] } : { thinkingLevel: LEVEL[effort] };
}

function responseFormat(format: unknown): Record<string, unknown> {
  const f = format as { type?: string; json_schema?: { schema?: unknown } } | null | undefined;
  if (f?.type === 'json_object') return { responseMimeType: 'application/json' };
  // responseJsonSchema takes JSON Schema as OpenAI clients write it (a documented subset is enforced).
  if (f?.type === 'json_schema') return { responseMimeType: 'application/json', responseJsonSchema: f.json_schema?.schema ?? {} };
  return {};
}

export function geminiRequest(body: ChatRequest, model: string): Record<string, unknown> {
  const { systemInstruction, contents } = geminiContents(body);
  const stop = stopList(body.stop);
  const thinking = thinkingConfig(model, body.reasoning_effort);
  // maxOutputTokens is optional (the model's own limit applies): only the client's cap is sent.
  const cap = body.max_completion_tokens ?? body.max_tokens;
  const generationConfig: Record<string, unknown> = {
    ...(cap != null ? { maxOutputTokens: cap } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(stop ? { stopSequences: stop } : {}),
    ...(typeof body.n === 'number' && body.n > 1 ? { candidateCount: body.n } : {}),
    ...(typeof body.seed === 'number' ? { seed: body.seed } : {}),
    ...(typeof body.presence_penalty === 'number' ? { presencePenalty: body.presence_penalty } : {}),
    ...(typeof body.frequency_penalty === 'number' ? { frequencyPenalty: body.frequency_penalty } : {}),
    ...(body.logprobs === true ? { responseLogprobs: true, ...(typeof body.top_logprobs === 'number' ? { logprobs: body.top_logprobs } : {}) } : {}),
    ...responseFormat(body.response_format),
    ...(thinking ? { thinkingConfig: thinking } : {}),
  };
  const declarations = toolsOf(body).map((t) => ({
    name: t.function.name,
    ...(t.function.description ? { description: t.function.description } : {}),
    ...(t.function.parameters ? { parametersJsonSchema: t.function.parameters } : {}),
  }));
  const config = toolConfig(body.tool_choice as ToolChoice | undefined);
  return {
    contents,
    ...(systemInstruction ? { systemInstruction } : {}),
    ...(declarations.length ? { tools: [{ functionDeclarations: declarations }] } : {}),
    ...(config ? { toolConfig: config } : {}),
    generationConfig,
  };
}
