-- pgrest-lambda auth schema, version `pgrest-lambda-1` (applied by `pgrest-lambda migrate-auth`,
-- see src/migrate.rs). The tables, columns, types and helper functions have the names and
-- meanings Supabase Auth (GoTrue v2.186) gives them, so a database dumped from Supabase keeps
-- working and row-level security written for Supabase runs unchanged.
--
-- Rules for this file:
--   * it runs inside one transaction (migrate.rs wraps it; by hand: `psql --single-transaction`),
--     followed by auth_grants.sql;
--   * every statement is idempotent and must also succeed on a Supabase-made `auth` schema:
--     CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, constraints and enum types added only
--     when missing, CREATE OR REPLACE for the helper functions;
--   * no row, column or index is dropped and no stored value changes; the only changes to
--     existing objects are the ones GoTrue itself made to the same objects over time (older
--     column names, the identities key, NOT NULL dropped where GoTrue v2.186 allows NULL,
--     varchar widened to text);
--   * no table is granted to the API roles (anon, authenticated, service_role), and row-level
--     security is enabled (without policies) on every table as a second fence.
--
-- On an existing schema it must run as the owner of the auth tables and functions, with CREATE
-- on the schema (or as a superuser), as any ALTER TABLE would.

-- Checked first: CREATE SCHEMA IF NOT EXISTS would still need CREATE on the database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'auth') THEN
        CREATE SCHEMA auth;
        COMMENT ON SCHEMA auth IS 'Supabase-compatible authentication data (users, sessions, tokens); managed by pgrest-lambda migrate-auth.';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Enum types (created only when missing; a Supabase schema already has them).
-- ---------------------------------------------------------------------------------------------

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'auth' AND t.typname = 'aal_level'
    ) THEN
        CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'auth' AND t.typname = 'code_challenge_method'
    ) THEN
        CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_type t
        JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'auth' AND t.typname = 'one_time_token_type'
    ) THEN
        CREATE TYPE auth.one_time_token_type AS ENUM (
            'confirmation_token',
            'reauthentication_token',
            'recovery_token',
            'email_change_token_new',
            'email_change_token_current',
            'phone_change_token'
        );
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- auth.users: one row per account. Column order follows Supabase's table.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.users (
    instance_id                 uuid,
    id                          uuid         NOT NULL,
    aud                         varchar(255),
    role                        varchar(255),
    email                       varchar(255),
    encrypted_password          varchar(255),
    email_confirmed_at          timestamptz,
    invited_at                  timestamptz,
    confirmation_token          varchar(255),
    confirmation_sent_at        timestamptz,
    recovery_token              varchar(255),
    recovery_sent_at            timestamptz,
    email_change_token_new      varchar(255),
    email_change                varchar(255),
    email_change_sent_at        timestamptz,
    last_sign_in_at             timestamptz,
    raw_app_meta_data           jsonb,
    raw_user_meta_data          jsonb,
    is_super_admin              boolean,
    created_at                  timestamptz,
    updated_at                  timestamptz,
    phone                       text         DEFAULT NULL,
    phone_confirmed_at          timestamptz  DEFAULT NULL,
    phone_change                text         DEFAULT '',
    phone_change_token          varchar(255) DEFAULT '',
    phone_change_sent_at        timestamptz  DEFAULT NULL,
    confirmed_at                timestamptz
        GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
    email_change_token_current  varchar(255) DEFAULT '',
    email_change_confirm_status smallint     DEFAULT 0,
    banned_until                timestamptz,
    reauthentication_token      varchar(255) DEFAULT '',
    reauthentication_sent_at    timestamptz  DEFAULT NULL,
    is_sso_user                 boolean      NOT NULL DEFAULT false,
    deleted_at                  timestamptz,
    is_anonymous                boolean      NOT NULL DEFAULT false,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_phone_key UNIQUE (phone),
    CONSTRAINT users_email_change_confirm_status_check
        CHECK (email_change_confirm_status BETWEEN 0 AND 2)
);

-- Schemas made by GoTrue before mid-2021 used older names for two columns; give them the current
-- names (the data keeps its meaning: the old confirmed_at was the email confirmation time).
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'auth.users'::regclass AND attname = 'email_confirmed_at' AND NOT attisdropped
    ) AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'auth.users'::regclass AND attname = 'confirmed_at' AND NOT attisdropped
          AND attgenerated = ''
    ) THEN
        ALTER TABLE auth.users RENAME COLUMN confirmed_at TO email_confirmed_at;
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'auth.users'::regclass AND attname = 'email_change_token_new' AND NOT attisdropped
    ) AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'auth.users'::regclass AND attname = 'email_change_token' AND NOT attisdropped
    ) THEN
        ALTER TABLE auth.users RENAME COLUMN email_change_token TO email_change_token_new;
    END IF;
END
$$;

-- Columns an older (or partial) users table may lack. No-ops on a current schema.
ALTER TABLE auth.users
    ADD COLUMN IF NOT EXISTS instance_id                 uuid,
    ADD COLUMN IF NOT EXISTS aud                         varchar(255),
    ADD COLUMN IF NOT EXISTS role                        varchar(255),
    ADD COLUMN IF NOT EXISTS email                       varchar(255),
    ADD COLUMN IF NOT EXISTS encrypted_password          varchar(255),
    ADD COLUMN IF NOT EXISTS email_confirmed_at          timestamptz,
    ADD COLUMN IF NOT EXISTS invited_at                  timestamptz,
    ADD COLUMN IF NOT EXISTS confirmation_token          varchar(255),
    ADD COLUMN IF NOT EXISTS confirmation_sent_at        timestamptz,
    ADD COLUMN IF NOT EXISTS recovery_token              varchar(255),
    ADD COLUMN IF NOT EXISTS recovery_sent_at            timestamptz,
    ADD COLUMN IF NOT EXISTS email_change_token_new      varchar(255),
    ADD COLUMN IF NOT EXISTS email_change                varchar(255),
    ADD COLUMN IF NOT EXISTS email_change_sent_at        timestamptz,
    ADD COLUMN IF NOT EXISTS last_sign_in_at             timestamptz,
    ADD COLUMN IF NOT EXISTS raw_app_meta_data           jsonb,
    ADD COLUMN IF NOT EXISTS raw_user_meta_data          jsonb,
    ADD COLUMN IF NOT EXISTS is_super_admin              boolean,
    ADD COLUMN IF NOT EXISTS created_at                  timestamptz,
    ADD COLUMN IF NOT EXISTS updated_at                  timestamptz,
    ADD COLUMN IF NOT EXISTS phone                       text         DEFAULT NULL,
    ADD COLUMN IF NOT EXISTS phone_confirmed_at          timestamptz  DEFAULT NULL,
    ADD COLUMN IF NOT EXISTS phone_change                text         DEFAULT '',
    ADD COLUMN IF NOT EXISTS phone_change_token          varchar(255) DEFAULT '',
    ADD COLUMN IF NOT EXISTS phone_change_sent_at        timestamptz  DEFAULT NULL,
    ADD COLUMN IF NOT EXISTS email_change_token_current  varchar(255) DEFAULT '',
    ADD COLUMN IF NOT EXISTS email_change_confirm_status smallint     DEFAULT 0,
    ADD COLUMN IF NOT EXISTS banned_until                timestamptz,
    ADD COLUMN IF NOT EXISTS reauthentication_token      varchar(255) DEFAULT '',
    ADD COLUMN IF NOT EXISTS reauthentication_sent_at    timestamptz  DEFAULT NULL,
    ADD COLUMN IF NOT EXISTS is_sso_user                 boolean      NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS deleted_at                  timestamptz,
    ADD COLUMN IF NOT EXISTS is_anonymous                boolean      NOT NULL DEFAULT false;

-- Added separately: it needs both confirmation columns to exist first.
ALTER TABLE auth.users
    ADD COLUMN IF NOT EXISTS confirmed_at timestamptz
        GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED;

-- Early GoTrue schemas stored phone numbers as varchar(15); current ones use text. The change is
-- binary-compatible (no rewrite). A view depending on the columns blocks it: then keep varchar.
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'auth' AND table_name = 'users'
          AND column_name IN ('phone', 'phone_change') AND data_type = 'character varying'
    ) THEN
        BEGIN
            ALTER TABLE auth.users
                ALTER COLUMN phone TYPE text,
                ALTER COLUMN phone_change TYPE text;
        EXCEPTION
            WHEN feature_not_supported OR dependent_objects_still_exist THEN
                RAISE NOTICE 'auth.users.phone / phone_change stay varchar: a view or rule depends on them';
        END;
    END IF;
END
$$;

COMMENT ON TABLE auth.users IS 'Auth: accounts that can sign in (login data); never exposed to API roles.';
COMMENT ON COLUMN auth.users.confirmed_at IS 'Auth: earliest of email_confirmed_at and phone_confirmed_at (generated).';
COMMENT ON COLUMN auth.users.is_sso_user IS 'Auth: true for accounts from SSO; such accounts may share an email with another account.';

-- ---------------------------------------------------------------------------------------------
-- auth.identities: how a user signs in (email, phone, an OAuth provider, ...).
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.identities (
    provider_id     text        NOT NULL,
    user_id         uuid        NOT NULL,
    identity_data   jsonb       NOT NULL,
    provider        text        NOT NULL,
    last_sign_in_at timestamptz,
    created_at      timestamptz,
    updated_at      timestamptz,
    email           text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    CONSTRAINT identities_pkey PRIMARY KEY (id),
    CONSTRAINT identities_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES auth.users (id) ON DELETE CASCADE,
    CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);

-- GoTrue schemas before late 2023 keyed identities by (provider, id) with id holding the
-- provider's user id; that column is now provider_id and id is a generated uuid.
DO $$
DECLARE
    old_pkey name;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'auth.identities'::regclass AND attname = 'provider_id' AND NOT attisdropped
    ) THEN
        ALTER TABLE auth.identities RENAME COLUMN id TO provider_id;
    END IF;

    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = 'auth.identities'::regclass AND attname = 'id' AND NOT attisdropped
    ) THEN
        SELECT conname INTO old_pkey
        FROM pg_catalog.pg_constraint
        WHERE conrelid = 'auth.identities'::regclass AND contype = 'p';
        IF old_pkey IS NOT NULL THEN
            -- The uniqueness it gave is kept by identities_provider_id_provider_unique below.
            EXECUTE format('ALTER TABLE auth.identities DROP CONSTRAINT %I', old_pkey);
        END IF;
        ALTER TABLE auth.identities
            ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
            ADD CONSTRAINT identities_pkey PRIMARY KEY (id);
    END IF;
END
$$;

ALTER TABLE auth.identities
    ADD COLUMN IF NOT EXISTS last_sign_in_at timestamptz,
    ADD COLUMN IF NOT EXISTS created_at      timestamptz,
    ADD COLUMN IF NOT EXISTS updated_at      timestamptz,
    ADD COLUMN IF NOT EXISTS email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED;

COMMENT ON TABLE auth.identities IS 'Auth: sign-in identities (email, phone, OAuth providers) of each user.';
COMMENT ON COLUMN auth.identities.email IS 'Auth: lowercased identity_data->>''email'' (generated).';

-- ---------------------------------------------------------------------------------------------
-- auth.sessions and auth.refresh_tokens.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.sessions (
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    created_at   timestamptz,
    updated_at   timestamptz,
    factor_id    uuid,
    aal          auth.aal_level,
    not_after    timestamptz,
    refreshed_at timestamp without time zone,
    user_agent   text,
    ip           inet,
    tag          text,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES auth.users (id) ON DELETE CASCADE
);

ALTER TABLE auth.sessions
    ADD COLUMN IF NOT EXISTS factor_id    uuid,
    ADD COLUMN IF NOT EXISTS aal          auth.aal_level,
    ADD COLUMN IF NOT EXISTS not_after    timestamptz,
    ADD COLUMN IF NOT EXISTS refreshed_at timestamp without time zone,
    ADD COLUMN IF NOT EXISTS user_agent   text,
    ADD COLUMN IF NOT EXISTS ip           inet,
    ADD COLUMN IF NOT EXISTS tag          text;

COMMENT ON TABLE auth.sessions IS 'Auth: signed-in sessions of each user.';
COMMENT ON COLUMN auth.sessions.not_after IS 'Auth: when set, the session counts as expired after this time.';

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
    instance_id uuid,
    id          bigserial    NOT NULL,
    token       varchar(255),
    user_id     varchar(255),
    revoked     boolean,
    created_at  timestamptz,
    updated_at  timestamptz,
    parent      varchar(255),
    session_id  uuid,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_token_unique UNIQUE (token),
    CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES auth.sessions (id) ON DELETE CASCADE
);

ALTER TABLE auth.refresh_tokens
    ADD COLUMN IF NOT EXISTS parent     varchar(255),
    ADD COLUMN IF NOT EXISTS session_id uuid;

COMMENT ON TABLE auth.refresh_tokens IS 'Auth: refresh tokens; each use revokes the token and issues its child (parent = previous token).';

-- ---------------------------------------------------------------------------------------------
-- auth.one_time_tokens: hashed confirmation / recovery / email-change / reauthentication tokens.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.one_time_tokens (
    id         uuid                     NOT NULL,
    user_id    uuid                     NOT NULL,
    token_type auth.one_time_token_type NOT NULL,
    token_hash text                     NOT NULL,
    relates_to text                     NOT NULL,
    created_at timestamp without time zone NOT NULL DEFAULT now(),
    updated_at timestamp without time zone NOT NULL DEFAULT now(),
    CONSTRAINT one_time_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT one_time_tokens_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES auth.users (id) ON DELETE CASCADE,
    CONSTRAINT one_time_tokens_token_hash_check CHECK (char_length(token_hash) > 0)
);

COMMENT ON TABLE auth.one_time_tokens IS 'Auth: at most one pending token of each type per user, stored as a hash; relates_to is the email or phone it was sent to.';

-- ---------------------------------------------------------------------------------------------
-- auth.flow_state: PKCE and OAuth sign-in flows in progress.
-- redirect_to and state_hash are pgrest-lambda's (the OAuth state binding); GoTrue ignores them.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.flow_state (
    id                     uuid        NOT NULL,
    user_id                uuid,
    auth_code              text,
    code_challenge_method  auth.code_challenge_method,
    code_challenge         text,
    provider_type          text        NOT NULL,
    provider_access_token  text,
    provider_refresh_token text,
    created_at             timestamptz,
    updated_at             timestamptz,
    authentication_method  text        NOT NULL,
    auth_code_issued_at    timestamptz,
    redirect_to            text,
    state_hash             text,
    CONSTRAINT flow_state_pkey PRIMARY KEY (id)
);

ALTER TABLE auth.flow_state
    ADD COLUMN IF NOT EXISTS authentication_method text,
    ADD COLUMN IF NOT EXISTS auth_code_issued_at   timestamptz,
    ADD COLUMN IF NOT EXISTS redirect_to           text,
    ADD COLUMN IF NOT EXISTS state_hash            text;

-- GoTrue v2.186 allows flows without PKCE (implicit OAuth): these three may be NULL.
ALTER TABLE auth.flow_state
    ALTER COLUMN auth_code DROP NOT NULL,
    ALTER COLUMN code_challenge_method DROP NOT NULL,
    ALTER COLUMN code_challenge DROP NOT NULL;

COMMENT ON TABLE auth.flow_state IS 'Auth: PKCE and OAuth sign-in flows in progress.';
COMMENT ON COLUMN auth.flow_state.redirect_to IS 'pgrest-lambda: where to send the user when the OAuth flow ends.';
COMMENT ON COLUMN auth.flow_state.state_hash IS 'pgrest-lambda: hash of the OAuth state parameter bound to this flow.';

-- ---------------------------------------------------------------------------------------------
-- auth.audit_log_entries and auth.schema_migrations.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS auth.audit_log_entries (
    instance_id uuid,
    id          uuid        NOT NULL,
    payload     json,
    created_at  timestamptz,
    ip_address  varchar(64) NOT NULL DEFAULT '',
    CONSTRAINT audit_log_entries_pkey PRIMARY KEY (id)
);

ALTER TABLE auth.audit_log_entries
    ADD COLUMN IF NOT EXISTS ip_address varchar(64) NOT NULL DEFAULT '';

COMMENT ON TABLE auth.audit_log_entries IS 'Auth: audit trail of account actions (sign-ups, sign-ins, token refreshes, ...).';

CREATE TABLE IF NOT EXISTS auth.schema_migrations (
    version varchar(255) NOT NULL,
    CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
);

-- A schema_migrations made by GoTrue's own migrator (pop) holds varchar(14), too short for our
-- version names; widening varchar is a catalog-only change.
DO $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'auth' AND table_name = 'schema_migrations' AND column_name = 'version'
          AND data_type = 'character varying' AND character_maximum_length < 255
    ) THEN
        ALTER TABLE auth.schema_migrations ALTER COLUMN version TYPE varchar(255);
    END IF;
END
$$;

COMMENT ON TABLE auth.schema_migrations IS 'Auth: applied schema versions (GoTrue''s are timestamps, pgrest-lambda''s are named pgrest-lambda-N).';

-- ---------------------------------------------------------------------------------------------
-- Constraints an older schema may lack (added when no constraint of that name exists).
-- ---------------------------------------------------------------------------------------------

DO $$
DECLARE
    wanted text[];
BEGIN
    FOREACH wanted SLICE 1 IN ARRAY ARRAY[
        ['users', 'users_phone_key', 'UNIQUE (phone)'],
        ['users', 'users_email_change_confirm_status_check',
            'CHECK (email_change_confirm_status BETWEEN 0 AND 2)'],
        ['identities', 'identities_provider_id_provider_unique', 'UNIQUE (provider_id, provider)'],
        ['refresh_tokens', 'refresh_tokens_token_unique', 'UNIQUE (token)'],
        ['refresh_tokens', 'refresh_tokens_session_id_fkey',
            'FOREIGN KEY (session_id) REFERENCES auth.sessions (id) ON DELETE CASCADE']
    ] LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_catalog.pg_constraint
            WHERE conrelid = format('auth.%I', wanted[1])::regclass AND conname = wanted[2]
        ) THEN
            EXECUTE format('ALTER TABLE auth.%I ADD CONSTRAINT %I %s', wanted[1], wanted[2], wanted[3]);
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Indexes (same names as Supabase's, so an existing one is never duplicated).
-- ---------------------------------------------------------------------------------------------

CREATE INDEX IF NOT EXISTS users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users (instance_id, lower(email));
-- One non-SSO account per email, case-insensitively.
CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key ON auth.users (lower(email))
    WHERE is_sso_user = false;
CREATE INDEX IF NOT EXISTS users_is_anonymous_idx ON auth.users (is_anonymous);
-- Token columns are unique unless they hold an empty / numeric OTP value.
CREATE UNIQUE INDEX IF NOT EXISTS confirmation_token_idx ON auth.users (confirmation_token)
    WHERE confirmation_token !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS recovery_token_idx ON auth.users (recovery_token)
    WHERE recovery_token !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS email_change_token_current_idx ON auth.users (email_change_token_current)
    WHERE email_change_token_current !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS email_change_token_new_idx ON auth.users (email_change_token_new)
    WHERE email_change_token_new !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX IF NOT EXISTS reauthentication_token_idx ON auth.users (reauthentication_token)
    WHERE reauthentication_token !~ '^[0-9 ]*$';

CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities (user_id);
CREATE INDEX IF NOT EXISTS identities_email_idx ON auth.identities (email text_pattern_ops);

CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_not_after_idx ON auth.sessions (not_after DESC);

CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_idx ON auth.refresh_tokens (instance_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_instance_id_user_id_idx ON auth.refresh_tokens (instance_id, user_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_parent_idx ON auth.refresh_tokens (parent);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);
CREATE INDEX IF NOT EXISTS refresh_tokens_updated_at_idx ON auth.refresh_tokens (updated_at DESC);
-- (lookups by token use the index behind refresh_tokens_token_unique)

CREATE UNIQUE INDEX IF NOT EXISTS one_time_tokens_user_id_token_type_key
    ON auth.one_time_tokens (user_id, token_type);
CREATE INDEX IF NOT EXISTS one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);
CREATE INDEX IF NOT EXISTS one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);

CREATE INDEX IF NOT EXISTS idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX IF NOT EXISTS idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX IF NOT EXISTS flow_state_created_at_idx ON auth.flow_state (created_at DESC);
CREATE INDEX IF NOT EXISTS flow_state_state_hash_idx ON auth.flow_state (state_hash)
    WHERE state_hash IS NOT NULL;

CREATE INDEX IF NOT EXISTS audit_logs_instance_id_idx ON auth.audit_log_entries (instance_id);

-- ---------------------------------------------------------------------------------------------
-- Row-level security without policies: even a stray table grant exposes no row to API roles.
-- The owner (the role pgrest-lambda's auth service connects as) is not subject to it.
-- ---------------------------------------------------------------------------------------------

ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.one_time_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.flow_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.audit_log_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.schema_migrations ENABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------------------------
-- Helpers for row-level security policies, reading the claims of the request's JWT from the
-- settings PostgREST (and pgrest-lambda) set per transaction: request.jwt.claims (JSON), or the
-- legacy per-claim settings request.jwt.claim.<name> (and request.jwt.claim for the whole JSON).
-- An empty setting counts as unset. STABLE, plain SQL: the planner can inline them.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
AS $fn$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
    )::uuid
$fn$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
AS $fn$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
    )::text
$fn$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE
AS $fn$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
    )::text
$fn$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE
AS $fn$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::jsonb
$fn$;

COMMENT ON FUNCTION auth.uid() IS 'The request''s user id (JWT sub claim) or NULL. Prefer (auth.jwt() ->> ''sub'')::uuid.';
COMMENT ON FUNCTION auth.role() IS 'The request''s role claim or NULL. Prefer auth.jwt() ->> ''role''.';
COMMENT ON FUNCTION auth.email() IS 'The request''s email claim or NULL. Prefer auth.jwt() ->> ''email''.';
COMMENT ON FUNCTION auth.jwt() IS 'All claims of the request''s JWT as jsonb, or NULL.';

-- Grants to the API roles are in auth_grants.sql, which migrate.rs runs after this file on
-- every run (so roles created later get them too).

-- ---------------------------------------------------------------------------------------------
-- Record this version last: it is what `check_schema` looks for.
-- ---------------------------------------------------------------------------------------------

INSERT INTO auth.schema_migrations (version)
SELECT 'pgrest-lambda-1'
WHERE NOT EXISTS (SELECT 1 FROM auth.schema_migrations WHERE version = 'pgrest-lambda-1');
