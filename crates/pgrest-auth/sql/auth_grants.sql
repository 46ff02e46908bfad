-- Grants for the API roles on the auth schema (see src/migrate.rs): run after auth_v1.sql and on
-- every `pgrest-lambda migrate-auth`, also when the schema is already current, so that roles
-- created after the first run get them. Idempotent; changes nothing but these grants.
--
-- API roles may call the helpers (their policies do) but get no table privilege. Roles that do
-- not exist (yet) are skipped.
DO $$
DECLARE
    api_role text;
BEGIN
    FOREACH api_role IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = api_role) THEN
            EXECUTE format('GRANT USAGE ON SCHEMA auth TO %I', api_role);
            EXECUTE format(
                'GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt() TO %I',
                api_role
            );
        END IF;
    END LOOP;
END
$$;
