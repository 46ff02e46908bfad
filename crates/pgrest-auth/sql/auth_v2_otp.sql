-- pgrest-lambda auth schema, version `pgrest-lambda-2`: guessing limits for mailed one-time
-- tokens (V-12). Applied by `pgrest-lambda migrate-auth` right after auth_v1.sql, in the same
-- transaction (see src/migrate.rs and src/otp_guard.rs).
--
-- Idempotent, and safe on an auth schema dumped from Supabase: it only adds pgrest-lambda's own
-- tables; no Supabase table or row changes, so GoTrue pointed back at the database ignores them.

-- ---------------------------------------------------------------------------------------------
-- auth.one_time_token_guards: per token, the hash of its link secret (independent of the
-- six-digit code) and the number of wrong codes guessed for it. Deleted with its token.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.one_time_token_guards (
    token_id        uuid    NOT NULL,
    link_hash       text,
    failed_attempts integer NOT NULL DEFAULT 0,
    CONSTRAINT one_time_token_guards_pkey PRIMARY KEY (token_id),
    CONSTRAINT one_time_token_guards_token_id_fkey FOREIGN KEY (token_id)
        REFERENCES auth.one_time_tokens (id) ON DELETE CASCADE,
    CONSTRAINT one_time_token_guards_link_hash_key UNIQUE (link_hash)
);

COMMENT ON TABLE auth.one_time_token_guards IS 'Auth (pgrest-lambda): per one-time token, the SHA-256 of its link secret and the wrong codes guessed for it; the token is deleted when they reach AUTH_OTP_MAX_ATTEMPTS.';

-- ---------------------------------------------------------------------------------------------
-- auth.otp_address_failures: wrong codes per address (SHA-256 of the lower-cased address, for
-- registered and unknown addresses alike) in the current window; rows of past windows are
-- deleted as new failures arrive.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.otp_address_failures (
    address_hash      text        NOT NULL,
    failures          integer     NOT NULL DEFAULT 0,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT otp_address_failures_pkey PRIMARY KEY (address_hash)
);

CREATE INDEX IF NOT EXISTS otp_address_failures_window_idx ON auth.otp_address_failures (window_started_at);

COMMENT ON TABLE auth.otp_address_failures IS 'Auth (pgrest-lambda): wrong one-time codes per address hash in the current window (AUTH_OTP_FAILURES_PER_ADDRESS).';

ALTER TABLE auth.one_time_token_guards ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.otp_address_failures ENABLE ROW LEVEL SECURITY;

-- The version (pgrest-lambda-2) is recorded by auth_v2_tokens.sql, the last step of v2.
