// The package's policy against tokens minted by the extension in a real
// database and by Python independently (tests/js/test_js_package.py writes
// them to the file PG_AUTH_JS_FIXTURES names, and runs these tests).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Policy } from "pg-auth-filter";

const fixtures = JSON.parse(readFileSync(process.env.PG_AUTH_JS_FIXTURES, "utf8"));
const config = { secret_env: "JWT_SECRET", secret_is_base64: true, forward_claims: { sub: "x-user" } };
const policy = new Policy(config, { JWT_SECRET: fixtures.secret });
const cookie = (token) => ({ cookie: `theme=dark; access_token=${token}` });

test("a token minted by the extension opens a private route", () => {
  const decision = policy.decide({ method: "GET", path: "/rest/task", headers: cookie(fixtures.extension) });
  assert.equal(decision.allow, true);
  assert.equal(decision.outcome, "decision.allowed");
  assert.equal(decision.headers.authorization, `Bearer ${fixtures.extension}`);
  assert.equal(decision.headers["x-user"], "demo");
});

test("a token minted by Python verifies, with its claims", () => {
  const verified = policy.verify(`access_token=${fixtures.python}`);
  assert.deepEqual(verified, { valid: true, claims: fixtures.python_claims });
});

for (const [name, reason] of [
  ["expired", "expired"],
  ["forged", "bad_signature"],
  ["alg_swapped", "unsupported_algorithm"],
]) {
  test(`a ${name} token is refused: ${reason}`, () => {
    const decision = policy.decide({ method: "GET", path: "/rest/task", headers: cookie(fixtures[name]) });
    assert.equal(decision.allow, false);
    assert.equal(decision.status, 401);
    assert.equal(JSON.parse(decision.body).details, reason);
    assert.equal(policy.verify(`access_token=${fixtures[name]}`).reason, reason);
  });
}

test("two access cookies are refused on every route", () => {
  const headers = { cookie: `access_token=${fixtures.extension}; access_token=${fixtures.python}` };
  for (const path of ["/rest/task", "/rpc/login"]) {
    const decision = policy.decide({ method: "POST", path, headers });
    assert.equal(decision.status, 400);
    assert.equal(JSON.parse(decision.body).details, "ambiguous_cookie");
  }
  assert.deepEqual(policy.verify(headers.cookie), { valid: false, reason: "ambiguous_cookie" });
});

test("no cookie: 401 on private routes, public routes pass and lose a client Authorization", () => {
  const missing = policy.decide({ method: "GET", path: "/rest/task", headers: {} });
  assert.equal(missing.status, 401);
  assert.equal(missing.headers["www-authenticate"], "Bearer");
  const login = policy.decide({
    method: "POST",
    path: "/rpc/login",
    headers: { authorization: `Bearer ${fixtures.expired}` },
  });
  assert.equal(login.allow, true);
  assert.deepEqual(login.removeHeaders, ["authorization"]);
});

test("fetch Headers and split Cookie headers are read", () => {
  const headers = new Headers({ cookie: `access_token=${fixtures.extension}`, origin: "https://evil.example" });
  assert.equal(policy.decide({ method: "GET", path: "/rest/task", headers }).allow, true);
  const crossSite = policy.decide({ method: "POST", path: "/rpc/logout", headers });
  assert.equal(crossSite.status, 403);
  const split = { cookie: [`access_token=${fixtures.extension}`, "theme=dark"] };
  assert.equal(policy.decide({ method: "GET", path: "/rest/task", headers: split }).allow, true);
});

test("a bad configuration throws with the reason", () => {
  assert.throws(() => new Policy({ secret: "short" }), /at least 32/);
  assert.throws(() => new Policy({ secret_env: "JWT_SECRET" }, {}), /JWT_SECRET is not set/);
  assert.throws(() => new Policy("{"), /invalid proxy_filter configuration/);
});

test("a clock that makes no sense refuses", () => {
  const decision = policy.decide({ method: "GET", path: "/rest/task", headers: cookie(fixtures.extension) }, NaN);
  assert.equal(decision.status, 500);
});

test("the web and edge build loads from bytes and decides alike", async () => {
  const { load } = await import("pg-auth-filter/web");
  const bytes = readFileSync(new URL("../pkg/web/proxy_filter_bg.wasm", import.meta.url));
  const web = await load(bytes);
  const edgePolicy = new web.Policy(config, { JWT_SECRET: fixtures.secret });
  const decision = edgePolicy.decide({ method: "GET", path: "/rest/task", headers: cookie(fixtures.extension) });
  assert.equal(decision.allow, true);
  assert.equal(edgePolicy.verify(`access_token=${fixtures.forged}`).reason, "bad_signature");
});

test("aal2_routes need a token whose aal is aal2", () => {
  const stepUp = new Policy({ ...config, aal2_routes: [{ path: "/rest/secret" }] }, { JWT_SECRET: fixtures.secret });
  const read = (token) => stepUp.decide({ method: "GET", path: "/rest/secret", headers: cookie(token) });
  const refused = read(fixtures.python);
  assert.equal(refused.status, 403);
  assert.equal(JSON.parse(refused.body).details, "insufficient_aal");
  assert.equal(read(fixtures.aal2).allow, true);
  assert.equal(stepUp.decide({ method: "GET", path: "/rest/task", headers: cookie(fixtures.python) }).allow, true);
});
