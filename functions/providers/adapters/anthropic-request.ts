import {
  parseArguments, parseDataUri, partsOf, toolCallsOf, toolsOf, UnsupportedInput,
  type ContentPart, type ToolChoice,
} from './openai-shapes.js';
import { stopList, type ChatRequest } from './types.js';

/**
 * OpenAI chat request → Anthropic Messages request body.
 * https://platform.claude.com/docs/en/api/messages/create — system is top-level; images are
 * `{type: "image", source: {type: "base64"|"url"}}` blocks; tool calls are `tool_use` blocks in the
 * assistant turn and their results `tool_result` blocks in the next user turn (results first);
 * tools are `{name, description, input_schema}`; tool_choice is auto | any | tool | none.
 * Consecutive messages of one role are merged into one turn, as the API would.
 */
type Block = Record<string, unknown>;
interface Turn {
  role: 'user' | 'assistant';
  content: Block[];
}

/** cache_control on an OpenAI part or message is Anthropic's own prompt-caching marker: kept. */
const cacheOf = (o: Record<string, unknown>) => (o.cache_control ? { cache_control: o.cache_control } : {});

function imageBlock(part: ContentPart, param: string): Block {
  const url = (part as { image_url?: { url?: unknown } }).image_url?.url;
  if (typeof url !== 'string' || !url) throw new UnsupportedInput(param, 'image_url.url is required');
  const data = parseDataUri(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.data }, ...cacheOf(part) };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url }, ...cacheOf(part) };
  throw new UnsupportedInput(param, 'image_url.url must be an http(s) URL or a base64 data URI');
}

function contentBlocks(content: unknown, param: string, allowImages: boolean): Block[] {
  return partsOf(content).map((p, j) => {
    if (p.type === 'text' || p.type === 'refusal') {
      const text = (p as { text?: unknown; refusal?: unknown }).text ?? (p as { refusal?: unknown }).refusal;
      return { type: 'text', text: String(text ?? ''), ...cacheOf(p) };
    }
    if (p.type === 'image_url' && allowImages) return imageBlock(p, `${param}[${j}]`);
    throw new UnsupportedInput(`${param}[${j}]`, `content parts of type "${p.type}" cannot be sent to Anthropic here`);
  });
}

function toolResultContent(content: unknown, param: string): string | Block[] {
  if (typeof content === 'string') return content;
  return contentBlocks(content, param, true);
}

export function anthropicMessages(body: ChatRequest): { system?: Block[]; messages: Turn[] } {
  const system: Block[] = [];
  const turns: Turn[] = [];
  const push = (role: Turn['role'], blocks: Block[]) => {
    if (!blocks.length) return;
    const last = turns.at(-1);
    if (last?.role === role) {
      // Tool results must open the user turn that answers the tool calls.
      if (role === 'user' && blocks[0]!.type === 'tool_result') {
        const firstOther = last.content.findIndex((b) => b.type !== 'tool_result');
        if (firstOther >= 0) return last.content.splice(firstOther, 0, ...blocks);
      }
      last.content.push(...blocks);
    } else turns.push({ role, content: blocks });
  };
  body.messages.forEach((m, i) => {
    const param = `messages[${i}].content`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...contentBlocks(m.content, param, false));
        break;
      case 'user':
        push('user', contentBlocks(m.content, param, true));
        break;
      case 'assistant': {
        const blocks = contentBlocks(m.content, param, false).filter((b) => b.type !== 'text' || b.text !== '');
        toolCallsOf(m).forEach((call, j) => {
          const input = parseArguments(call.function?.arguments);
          if (!input) throw new UnsupportedInput(`messages[${i}].tool_calls[${j}].function.arguments`, 'arguments must be a JSON object');
          blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input });
        });
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [{ type: 'tool_result', tool_use_id: String(m.tool_call_id ?? ''), content: toolResultContent(m.content, param), ...cacheOf(m) }]);
        break;
      default:
        throw new UnsupportedInput(`messages[${i}].role`, `role "${m.role}" cannot be sent to Anthropic (use tools and role "tool")`);
    }
  });
  return { ...(system.length ? { system } : {}), messages: turns };
}

function toolChoice(choice: ToolChoice | undefined, parallel: unknown): Block | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined || choice === null) return parallel === false ? { type: 'auto', ...disable } : undefined;
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  if (choice === 'none') return { type: 'none' };
  if (typeof choice === 'object' && choice.function?.name) return { type: 'tool', name: choice.function.name, ...disable };
  throw new UnsupportedInput('tool_choice', 'tool_choice must be auto, none, required or {type: "function", function: {name}}');
}

/**
 * reasoning_effort → extended thinking. Claude 4.6 and later think adaptively, steered by
 * output_config.effort (https://platform.claude.com/docs/en/build-with-claude/effort); earlier
 * models take a thinking budget (https://platform.claude.com/docs/en/build-with-claude/extended-thinking),
 * at least 1024 tokens and below max_tokens.
 */
const BUDGET: Record<string, number> = { minimal: 1024, low: 2048, medium: 8192, high: 16384, xhigh: 32768 };
const EFFORT: Record<string, string> = { minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };
export function budgetThinkingModel(model: string): boolean {
  if (/claude-3/.test(model)) return true;
  const v = /claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:\D|$)/.exec(model);
  if (!v) return false;
  const major = Number(v[1]);
  const minor = v[2] === undefined ? 0 : Number(v[2]);
  return major < 4 || (major === 4 && minor < 6);
}

function thinking(model: string, effort: unknown, maxTokens: number): Block {
  if (effort === undefined || effort === null || effort === 'none') return {};
  if (typeof effort !== 'string' || !(effort in BUDGET)) throw new UnsupportedInput('reasoning_effort', 'reasoning_effort must be none, minimal, low, medium, high or xhigh');
  if (!budgetThinkingModel(model)) return { thinking: { type: 'adaptive' }, output_config: { effort: EFFORT[effort] } };
  const budget = Math.min(BUDGET[effort]!, maxTokens - 1);
  if (budget < 1024) throw new UnsupportedInput('reasoning_effort', 'Anthropic thinking needs max_tokens above 1024');
  return { thinking: { type: 'enabled', budget_tokens: budget } };
}

export function anthropicRequest(body: ChatRequest, model: string, maxTokens: number, stream: boolean): Record<string, unknown> {
  const { system, messages } = anthropicMessages(body);
  const tools = toolsOf(body).map((t) => ({
    name: t.function.name,
    ...(t.function.description ? { description: t.function.description } : {}),
    input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    ...(t.function.strict === true ? { strict: true } : {}),
    ...cacheOf(t),
  }));
  const choice = toolChoice(body.tool_choice as ToolChoice | undefined, body.parallel_tool_calls);
  const format = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined | null;
  const think = thinking(model, body.reasoning_effort, maxTokens);
  const outputConfig = {
    ...((think.output_config as Block | undefined) ?? {}),
    ...(format?.type === 'json_schema' ? { format: { type: 'json_schema', schema: format.json_schema?.schema ?? {} } } : {}),
  };
  const stop = stopList(body.stop);
  return {
    model,
    max_tokens: maxTokens,
    messages,
    ...(system ? { system } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { top_p: body.top_p } : {}),
    ...(stop ? { stop_sequences: stop } : {}),
    ...(tools.length ? { tools } : {}),
    ...(choice ? { tool_choice: choice } : {}),
    ...(typeof body.user === 'string' && body.user ? { metadata: { user_id: body.user } } : {}),
    ...(think.thinking ? { thinking: think.thinking } : {}),
    ...(Object.keys(outputConfig).length ? { output_config: outputConfig } : {}),
    ...(stream ? { stream: true } : {}),
  };
}
