// A client for single-page apps on another origin than the API (docs/filter.md,
// "Apps on another origin"): every request carries the cookies, and a 401
// (an expired access token, say) makes one refresh, then the same request
// again; concurrent calls share that refresh. It wraps fetch, so any
// fetch-based client uses it, e.g. @supabase/postgrest-js:
//
//   import { PostgrestClient } from "@supabase/postgrest-js";
//   import { pgAuth } from "pg-auth-filter/client";
//   const auth = pgAuth("https://api.example.com");
//   await auth.login("alice", "a long passphrase");
//   const db = new PostgrestClient("https://api.example.com/rest", { fetch: auth.fetch });
//   const { data } = await db.from("notes").select("*");
//   await auth.logout();
//
// The auth RPCs live at /rpc/* (the refresh cookie's path), the tables under
// /rest/. A request body must be sendable twice (a string, as postgrest-js
// sends): a stream cannot be retried.

const AUTH_HEADERS = { "Content-Profile": "auth", "Content-Type": "application/json" };

export function pgAuth(api, { fetch: send = (...args) => globalThis.fetch(...args) } = {}) {
  let refreshing = null;
  const rpc = (name, body) =>
    send(`${api}/rpc/${name}`, {
      method: "POST",
      credentials: "include",
      headers: AUTH_HEADERS,
      body: JSON.stringify(body ?? {}),
    });
  const refresh = () => (refreshing ??= rpc("refresh_token").finally(() => { refreshing = null; }));

  async function fetch(input, init = {}) {
    const again = () => send(input, { ...init, credentials: "include" });
    const response = await again();
    if (response.status !== 401) return response;
    const refreshed = await refresh();
    return refreshed.ok ? again() : response;
  }

  return {
    fetch,
    login: async (user, pass) => succeeded(await rpc("login", { user_: user, pass })),
    logout: async (scope = "local") => succeeded(await rpc("logout", { scope })),
  };
}

// Resolves on a 2xx; otherwise rejects with the API's message, and its
// status and slug (`details`) as properties.
async function succeeded(response) {
  if (response.ok) return;
  const body = await response.json().catch(() => null);
  const error = new Error(body?.message ?? `HTTP ${response.status}`);
  error.status = response.status;
  error.details = body?.details ?? null;
  throw error;
}
