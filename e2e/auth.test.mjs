// End-to-end tests of `/auth/v1` (the native GoTrue-compatible service) with the real
// @supabase/supabase-js client. Run through e2e/run.sh, which creates the auth schema, loads
// e2e/schema-after-auth.sql (public.todos, row-level security on auth.uid()), starts the SMTP
// sink (e2e/smtp-sink.mjs) and the server with MAILER_AUTOCONFIRM=true and anonymous sign-ins
// on, and sets:
//   PGREST_URL        base URL of the server
//   PGREST_ANON_KEY   apikey for role anon
//   E2E_MAILBOX_URL   the sink's HTTP address (GET /messages?to=addr)
// Every run uses fresh addresses (a Date.now() suffix), so it holds on a rerun against the
// same database too. Tests in a describe block run in order and share its users.

import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { client as newClientFor, env } from './client.mjs';

const url = env('PGREST_URL');
const anonKey = env('PGREST_ANON_KEY');
const mailboxUrl = env('E2E_MAILBOX_URL');

// A client of its own per user: each keeps its session in memory.
const newClient = () => newClientFor(url, anonKey);

const RUN = `${Date.now()}-${process.pid}`;
const email = (who) => `${who}-${RUN}@example.com`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Fails with the whole error, so a server bug shows what came back.
function ok(result) {
  assert.equal(result.error, null, `unexpected error: ${JSON.stringify(result.error)}`);
  return result;
}

function decodeJwt(token) {
  const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url')));
  return { header, payload };
}

// The messages the sink holds for `to`, waiting (briefly) until there are at least `count`.
async function mailsTo(to, count = 1) {
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${mailboxUrl}/messages?to=${encodeURIComponent(to)}`);
    assert.equal(res.status, 200);
    const list = await res.json();
    if (list.length >= count) return list;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no mail to ${to} arrived in 5 s`);
}

const codeIn = (text) => /one-time code: (\d{6})\b/.exec(text)?.[1];

// A session as GoTrue returns it, for `user` (checks the token's claims too).
function assertSession(session, user) {
  assert.equal(session.token_type, 'bearer');
  assert.equal(session.expires_in, 3600);
  assert.equal(typeof session.access_token, 'string');
  assert.equal(typeof session.refresh_token, 'string');
  assert.ok(session.refresh_token.length > 0);
  assert.equal(session.user.id, user.id);
  const { header, payload } = decodeJwt(session.access_token);
  assert.equal(header.alg, 'HS256');
  assert.equal(payload.sub, user.id);
  assert.equal(payload.role, 'authenticated');
  assert.equal(payload.aud, 'authenticated');
  assert.equal(payload.exp - payload.iat, 3600);
  assert.equal(session.expires_at, payload.exp);
  assert.match(payload.session_id, UUID);
}

describe('email and password', () => {
  const client = newClient();
  const addr = email('alice');
  const password = 'correct-horse-1';
  const newPassword = 'battery-staple-2';
  let user;
  let session;

  test('signUp returns a session and the user with its metadata and email identity', async () => {
    const { data } = ok(await client.auth.signUp({ email: addr, password, options: { data: { name: 'Alice' } } }));
    user = data.user;
    session = data.session;
    assert.match(user.id, UUID);
    assert.equal(user.email, addr);
    assert.equal(user.aud, 'authenticated');
    assert.equal(user.role, 'authenticated');
    assert.equal(user.is_anonymous, false);
    assert.deepEqual(user.user_metadata, { name: 'Alice' });
    assert.deepEqual(user.app_metadata, { provider: 'email', providers: ['email'] });
    assert.equal(typeof user.email_confirmed_at, 'string'); // MAILER_AUTOCONFIRM=true
    assert.equal(user.identities.length, 1);
    assert.equal(user.identities[0].provider, 'email');
    assert.equal(user.identities[0].user_id, user.id);
    assert.equal(user.identities[0].identity_data.email, addr);
    assert.equal(user.identities[0].identity_data.sub, user.id);
    // Autoconfirm sets email_confirmed_at but proves nothing about the address (as GoTrue's
    // identity_data says): a provider sign-in will not link into this account on that basis.
    assert.equal(user.identities[0].identity_data.email_verified, false);
    assert.equal(user.identities[0].identity_data.phone_verified, false);
    assert.notEqual(session, null);
    assertSession(session, user);
    assert.equal(decodeJwt(session.access_token).payload.email, addr);
  });

  test('signUp again with the same address: 422 user_already_exists', async () => {
    const { data, error } = await newClient().auth.signUp({ email: addr, password });
    assert.deepEqual(data, { user: null, session: null });
    assert.equal(error.name, 'AuthApiError');
    assert.equal(error.status, 422);
    assert.equal(error.code, 'user_already_exists');
  });

  test('signInWithPassword returns a new session', async () => {
    const { data } = ok(await client.auth.signInWithPassword({ email: addr, password }));
    assertSession(data.session, user);
    assert.equal(data.user.id, user.id);
    assert.equal(data.user.email, addr);
    assert.notEqual(data.session.refresh_token, session.refresh_token);
    assert.notEqual(
      decodeJwt(data.session.access_token).payload.session_id,
      decodeJwt(session.access_token).payload.session_id,
    );
    session = data.session;
  });

  test('signInWithPassword with a wrong password: 400 invalid_credentials', async () => {
    const { data, error } = await newClient().auth.signInWithPassword({ email: addr, password: 'wrong-password' });
    assert.deepEqual(data, { user: null, session: null });
    assert.equal(error.name, 'AuthApiError');
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_credentials');
    assert.equal(error.message, 'Invalid login credentials');
  });

  test('signInWithPassword with an unknown address: the same 400 invalid_credentials', async () => {
    const { error } = await newClient().auth.signInWithPassword({ email: email('nobody'), password });
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_credentials');
    assert.equal(error.message, 'Invalid login credentials');
  });

  test('getUser returns the signed-in user', async () => {
    const { data } = ok(await client.auth.getUser());
    assert.equal(data.user.id, user.id);
    assert.equal(data.user.email, addr);
    assert.deepEqual(data.user.user_metadata, { name: 'Alice' });
  });

  test('getClaims returns the verified claims of the access token', async () => {
    const { data } = ok(await client.auth.getClaims());
    const { payload } = decodeJwt(session.access_token);
    assert.equal(data.claims.sub, user.id);
    assert.equal(data.claims.email, addr);
    assert.equal(data.claims.role, 'authenticated');
    assert.equal(data.claims.session_id, payload.session_id);
    assert.match(data.claims.session_id, UUID);
    assert.equal(data.header.alg, 'HS256');
  });

  test('updateUser({data}) merges into user_metadata', async () => {
    const { data } = ok(await client.auth.updateUser({ data: { theme: 'dark' } }));
    assert.equal(data.user.id, user.id);
    assert.equal(data.user.user_metadata.name, 'Alice');
    assert.equal(data.user.user_metadata.theme, 'dark');
    assert.deepEqual(data.user.user_metadata, { name: 'Alice', theme: 'dark' });
    const again = ok(await client.auth.getUser());
    assert.deepEqual(again.data.user.user_metadata, { name: 'Alice', theme: 'dark' });
  });

  test('updateUser({password}): the new password signs in, the old one no longer does', async () => {
    const { data } = ok(await client.auth.updateUser({ password: newPassword }));
    assert.equal(data.user.id, user.id);

    const old = await newClient().auth.signInWithPassword({ email: addr, password });
    assert.equal(old.error?.status, 400);
    assert.equal(old.error.code, 'invalid_credentials');

    const fresh = ok(await newClient().auth.signInWithPassword({ email: addr, password: newPassword }));
    assertSession(fresh.data.session, user);
  });

  test('updateUser with the same password: 422 same_password', async () => {
    const { error } = await client.auth.updateUser({ password: newPassword });
    assert.equal(error.status, 422);
    assert.equal(error.code, 'same_password');
  });

  test('refreshSession rotates both tokens and keeps the session id', async () => {
    const before = (await client.auth.getSession()).data.session;
    assert.equal(before.refresh_token, session.refresh_token);
    const { data } = ok(await client.auth.refreshSession());
    assertSession(data.session, user);
    assert.notEqual(data.session.refresh_token, before.refresh_token);
    assert.notEqual(data.session.access_token, before.access_token);
    assert.equal(
      decodeJwt(data.session.access_token).payload.session_id,
      decodeJwt(before.access_token).payload.session_id,
    );
    assert.equal(data.user.id, user.id);
    session = data.session;
  });

  test('a second refreshSession rotates again', async () => {
    const { data } = ok(await client.auth.refreshSession());
    assertSession(data.session, user);
    assert.notEqual(data.session.refresh_token, session.refresh_token);
    session = data.session;
  });

  test('signOut ends the session: its access token is refused afterwards', async () => {
    const oldToken = session.access_token;
    ok(await client.auth.signOut());
    assert.equal((await client.auth.getSession()).data.session, null);

    // supabase-js turns 403 session_not_found into AuthSessionMissingError...
    const { data, error } = await client.auth.getUser(oldToken);
    assert.equal(data.user, null);
    assert.equal(error.name, 'AuthSessionMissingError');

    // ...which the server answered as GoTrue does.
    // With the API version header supabase-js sends: {code, message}.
    const headers = { apikey: anonKey, authorization: `Bearer ${oldToken}` };
    const res = await fetch(`${url}/auth/v1/user`, {
      headers: { ...headers, 'x-supabase-api-version': '2024-01-01' },
    });
    assert.equal(res.status, 403);
    const body = await res.json();
    assert.equal(body.code, 'session_not_found');
    assert.equal(typeof body.message, 'string');
    // Without it, GoTrue's older shape: {code: <status>, error_code, msg}.
    const legacy = await fetch(`${url}/auth/v1/user`, { headers });
    assert.equal(legacy.status, 403);
    const old = await legacy.json();
    assert.equal(old.code, 403);
    assert.equal(old.error_code, 'session_not_found');
    assert.equal(typeof old.msg, 'string');
  });

  test('the refresh token of a signed-out session is refused', async () => {
    const { data, error } = await newClient().auth.refreshSession({ refresh_token: session.refresh_token });
    assert.deepEqual(data, { user: null, session: null });
    assert.equal(error.name, 'AuthApiError');
    assert.equal(error.status, 400);
    assert.equal(error.code, 'refresh_token_not_found');
  });
});

describe('email one-time codes (SMTP sink)', () => {
  test('signInWithOtp mails a 6-digit code; verifyOtp with it signs in', async () => {
    const client = newClient();
    const addr = email('otp');
    const sent = ok(await client.auth.signInWithOtp({ email: addr }));
    assert.deepEqual(sent.data, { user: null, session: null });

    const mails = await mailsTo(addr);
    assert.equal(mails.length, 1);
    const [mail] = mails;
    assert.deepEqual(mail.to, [addr]);
    assert.equal(mail.from, 'noreply@example.com');
    // A new address is signed up by the OTP request: the mail is the sign-up confirmation.
    assert.equal(mail.subject, 'Confirm Your Email');
    const code = codeIn(mail.text);
    assert.match(code ?? '', /^\d{6}$/, `no code in ${JSON.stringify(mail.text)}`);
    assert.ok(mail.html.includes(code), 'the HTML part carries the same code');
    assert.ok(mail.text.includes(`${url}/auth/v1/verify?token=`));
    assert.ok(mail.text.includes('type=signup'));

    const wrong = code === '000000' ? '111111' : '000000';
    const bad = await client.auth.verifyOtp({ email: addr, token: wrong, type: 'email' });
    assert.equal(bad.error.status, 403);
    assert.equal(bad.error.code, 'otp_expired');

    const { data } = ok(await client.auth.verifyOtp({ email: addr, token: code, type: 'email' }));
    assert.equal(data.user.email, addr);
    assert.equal(typeof data.user.email_confirmed_at, 'string');
    assertSession(data.session, data.user);
    assert.equal((await client.auth.getSession()).data.session.access_token, data.session.access_token);

    // A code works once.
    const reused = await newClient().auth.verifyOtp({ email: addr, token: code, type: 'email' });
    assert.equal(reused.error.status, 403);
    assert.equal(reused.error.code, 'otp_expired');
  });

  test('signInWithOtp for a confirmed user mails a magic link with a working code', async () => {
    const addr = email('magic');
    ok(await newClient().auth.signUp({ email: addr, password: 'magic-pass-1' }));
    const client = newClient();
    ok(await client.auth.signInWithOtp({ email: addr, options: { shouldCreateUser: false } }));
    const [mail] = await mailsTo(addr);
    assert.equal(mail.subject, 'Your Magic Link');
    assert.ok(mail.text.includes('type=magiclink'));
    const { data } = ok(await client.auth.verifyOtp({ email: addr, token: codeIn(mail.text), type: 'email' }));
    assert.equal(data.user.email, addr);
  });

  test('signInWithOtp with shouldCreateUser false for an unknown address: 422 otp_disabled', async () => {
    const { error } = await newClient().auth.signInWithOtp({ email: email('ghost'), options: { shouldCreateUser: false } });
    assert.equal(error.status, 422);
    assert.equal(error.code, 'otp_disabled');
  });

  test('resetPasswordForEmail mails a recovery link that verifies and redirects', async () => {
    const addr = email('reset');
    ok(await newClient().auth.signUp({ email: addr, password: 'reset-pass-1' }));
    const client = newClient();
    const res = ok(await client.auth.resetPasswordForEmail(addr, { redirectTo: 'http://localhost:3000/reset' }));
    assert.deepEqual(res.data, {});

    const mails = await mailsTo(addr);
    assert.equal(mails.length, 1);
    const [mail] = mails;
    assert.equal(mail.subject, 'Reset Your Password');
    const link = /(https?:\/\/\S+\/auth\/v1\/verify\?\S+)/.exec(mail.text)?.[1];
    assert.ok(link, `no link in ${JSON.stringify(mail.text)}`);
    assert.ok(link.startsWith(`${url}/auth/v1/verify?token=`), link);
    const params = new URL(link).searchParams;
    assert.equal(params.get('type'), 'recovery');
    assert.equal(params.get('redirect_to'), 'http://localhost:3000/reset');
    // The link carries its own 256-bit secret (base64url), not GoTrue's SHA-224 of email + code,
    // which a guesser of the six-digit code could compute (V-12).
    assert.match(params.get('token'), /^[A-Za-z0-9_-]{43}$/);

    // Following the link signs the user in and sends them to the redirect with the session.
    const visit = await fetch(link, { redirect: 'manual' });
    assert.equal(visit.status, 303);
    const location = new URL(visit.headers.get('location'));
    assert.equal(`${location.origin}${location.pathname}`, 'http://localhost:3000/reset');
    const fragment = new URLSearchParams(location.hash.slice(1));
    assert.equal(fragment.get('type'), 'recovery');
    assert.equal(fragment.get('token_type'), 'bearer');
    assert.equal(decodeJwt(fragment.get('access_token')).payload.email, addr);

    // The recovery session can set a new password.
    ok(await client.auth.setSession({ access_token: fragment.get('access_token'), refresh_token: fragment.get('refresh_token') }));
    ok(await client.auth.updateUser({ password: 'reset-pass-2' }));
    ok(await newClient().auth.signInWithPassword({ email: addr, password: 'reset-pass-2' }));
  });

  test('resetPasswordForEmail for an unknown address answers the same and sends nothing', async () => {
    const addr = email('unknown');
    const res = ok(await newClient().auth.resetPasswordForEmail(addr, { redirectTo: 'http://localhost:3000/reset' }));
    assert.deepEqual(res.data, {});
    const list = await (await fetch(`${mailboxUrl}/messages?to=${encodeURIComponent(addr)}`)).json();
    assert.deepEqual(list, []);
  });
});

describe('anonymous sign-in', () => {
  test('signInAnonymously returns a session of an anonymous user', async () => {
    const client = newClient();
    const { data } = ok(await client.auth.signInAnonymously());
    assert.equal(data.user.is_anonymous, true);
    assert.equal(data.user.email, '');
    assert.deepEqual(data.user.identities, []);
    assertSession(data.session, data.user);
    const { payload } = decodeJwt(data.session.access_token);
    assert.equal(payload.is_anonymous, true);
    const me = ok(await client.auth.getUser());
    assert.equal(me.data.user.id, data.user.id);
    assert.equal(me.data.user.is_anonymous, true);
  });
});

describe('REST with row-level security on auth.uid()', () => {
  const users = { bob: { client: newClient() }, carol: { client: newClient() } };

  before(async () => {
    for (const [name, u] of Object.entries(users)) {
      const { data } = ok(await u.client.auth.signUp({ email: email(name), password: `${name}-pass-1` }));
      u.id = data.user.id;
    }
  });

  test('each user inserts a todo owned by them', async () => {
    for (const [name, u] of Object.entries(users)) {
      const res = ok(await u.client.from('todos').insert({ title: `${name}'s todo` }).select());
      assert.equal(res.status, 201);
      assert.equal(res.data.length, 1);
      const [row] = res.data;
      assert.equal(typeof row.id, 'number');
      assert.deepEqual(row, { id: row.id, owner: u.id, title: `${name}'s todo` });
      u.row = row;
    }
    assert.notEqual(users.bob.row.id, users.carol.row.id);
  });

  test('each user selects only their own todo', async () => {
    for (const u of Object.values(users)) {
      const res = ok(await u.client.from('todos').select('*'));
      assert.equal(res.status, 200);
      assert.deepEqual(res.data, [u.row]);
    }
  });

  test('a user cannot read or change the other user\'s todo', async () => {
    const { bob, carol } = users;
    const read = ok(await bob.client.from('todos').select('*').eq('id', carol.row.id));
    assert.deepEqual(read.data, []);
    const upd = ok(await bob.client.from('todos').update({ title: 'hijacked' }).eq('id', carol.row.id).select());
    assert.deepEqual(upd.data, []);
    const steal = await bob.client.from('todos').insert({ title: 'forged', owner: carol.id });
    assert.equal(steal.status, 403);
    assert.equal(steal.error.code, '42501');
    const still = ok(await carol.client.from('todos').select('*'));
    assert.deepEqual(still.data, [carol.row]);
  });

  test('without a session (anon) the table is not readable', async () => {
    const res = await newClient().from('todos').select('*');
    assert.equal(res.status, 401);
    assert.equal(res.error.code, '42501');
  });
});
