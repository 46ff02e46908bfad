-- Supabase's API roles for `pgrest-lambda dev`, run as the superuser at every start (idempotent).
-- Must not touch user tables or data: only roles, grants and default privileges.
--
-- The server logs in as `authenticator` (LOGIN NOINHERIT: it has no privileges of its own) and
-- switches per request to `anon`, `authenticated` or `service_role` with SET LOCAL ROLE.
-- psql variable: authenticator_password (hex, set by the CLI; kept in <data folder>/../authenticator.password).

\set ON_ERROR_STOP on

DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
END
$roles$;

-- Set at every start, so the password file stays the single source of truth.
ALTER ROLE authenticator WITH LOGIN NOINHERIT PASSWORD :'authenticator_password';

GRANT anon, authenticated, service_role TO authenticator;

GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

-- Objects the superuser creates from now on (as Supabase does: access is decided by policies).
-- Grants on existing objects are left alone, so a developer's REVOKE survives restarts.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON ROUTINES TO anon, authenticated, service_role;
