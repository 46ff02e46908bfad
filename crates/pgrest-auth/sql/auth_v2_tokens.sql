-- pgrest-lambda auth schema, step 2 (tokens): refresh tokens are stored as their SHA-256.
--
-- Runs after auth_v1.sql inside migrate()'s transaction. Idempotent and safe on a schema made by
-- Supabase Auth: it rewrites only plaintext tokens (GoTrue's 12-character ones, pgrest-lambda-1's
-- 43-character ones) into the hex SHA-256 the auth service looks them up by, in `token` and in
-- `parent` alike, so existing sessions keep refreshing and reuse detection keeps working. A value
-- that is already 64 hex digits is a hash and is left alone (no plaintext token has that shape).

UPDATE auth.refresh_tokens
   SET token = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')), 'hex')
 WHERE token IS NOT NULL AND token !~ '^[0-9a-f]{64}$';

UPDATE auth.refresh_tokens
   SET parent = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(parent, 'UTF8')), 'hex')
 WHERE parent IS NOT NULL AND parent !~ '^[0-9a-f]{64}$';

COMMENT ON COLUMN auth.refresh_tokens.token IS 'pgrest-lambda: SHA-256 (hex) of the refresh token; the token itself is never stored.';
COMMENT ON COLUMN auth.refresh_tokens.parent IS 'pgrest-lambda: SHA-256 (hex) of the token this one replaced.';

-- ---------------------------------------------------------------------------------------------
-- Record this version last: it is what `check_schema` looks for.
-- ---------------------------------------------------------------------------------------------

INSERT INTO auth.schema_migrations (version)
SELECT 'pgrest-lambda-2'
WHERE NOT EXISTS (SELECT 1 FROM auth.schema_migrations WHERE version = 'pgrest-lambda-2');
