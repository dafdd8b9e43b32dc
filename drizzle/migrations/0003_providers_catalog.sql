-- providers: the platform catalog seed. Base URLs are the API roots each adapter appends its paths to
-- (…/v1 + /chat/completions, …/v1 + /messages, …/v1beta + /models/{m}:generateContent). Prices are integer
-- micro-dollars per million tokens (list prices; platform admins edit them through the API).
INSERT INTO providers.providers (id, kind, display_name, base_url) VALUES
  ('openai', 'openai', 'OpenAI', 'https://api.openai.com/v1'),
  ('anthropic', 'anthropic', 'Anthropic', 'https://api.anthropic.com/v1'),
  ('gemini', 'gemini', 'Google Gemini', 'https://generativelanguage.googleapis.com/v1beta')
ON CONFLICT (id) DO NOTHING;

INSERT INTO providers.provider_models
  (provider_id, model, input_price_micros_per_mtok, output_price_micros_per_mtok, context_window, max_output_tokens) VALUES
  ('openai', 'gpt-4o-mini', 150000, 600000, 128000, 16384),
  ('openai', 'gpt-4o', 2500000, 10000000, 128000, 16384),
  ('openai', 'gpt-4.1-mini', 400000, 1600000, 1047576, 32768),
  ('anthropic', 'claude-3-5-haiku-latest', 800000, 4000000, 200000, 8192),
  ('anthropic', 'claude-sonnet-4-0', 3000000, 15000000, 200000, 64000),
  ('gemini', 'gemini-2.0-flash', 100000, 400000, 1048576, 8192),
  ('gemini', 'gemini-2.5-pro', 1250000, 10000000, 1048576, 65536)
ON CONFLICT (provider_id, model) DO NOTHING;

INSERT INTO providers.provider_health (provider_id) VALUES ('openai'), ('anthropic'), ('gemini')
ON CONFLICT (provider_id) DO NOTHING;
