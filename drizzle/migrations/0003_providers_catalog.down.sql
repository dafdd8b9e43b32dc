-- providers: remove the catalog seed (models and health rows cascade with their provider).
DELETE FROM providers.providers WHERE id IN ('openai', 'anthropic', 'gemini');
