-- auth.session_tokens: its policy, grants, indexes and foreign keys go with the table. Sessions still
-- remember their last retired hash in auth.sessions.previous_token_hash.
DROP TABLE IF EXISTS "auth"."session_tokens";
