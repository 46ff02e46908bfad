// Shared setup of the end-to-end tests: environment variables set by e2e/run.sh, and
// supabase-js client options. Holds no tests.

import { createClient } from '@supabase/supabase-js';

export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests through e2e/run.sh`);
  }
  return value;
}

// supabase-js always builds a realtime client, which needs a WebSocket class: Node 22+
// has one built in, Node 20 does not. Realtime is never used here, so on Node 20 hand it
// a class that refuses to be constructed.
class NoWebSocket {
  constructor() {
    throw new Error('realtime is not used by these tests');
  }
}

export const options = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  realtime: { transport: globalThis.WebSocket ?? NoWebSocket },
};

/** A client with its own in-memory session. */
export function client(url, key) {
  return createClient(url, key, options);
}
