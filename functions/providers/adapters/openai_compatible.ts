import { openAiAdapter } from './openai.js';

/** Any server speaking OpenAI's Chat Completions (vLLM, Groq, Together, Ollama…), reached through a BYOK base_url. */
export const openAiCompatibleAdapter = () => openAiAdapter('openai_compatible');
