// A plain Node http server in front of which no proxy runs: pages for
// signed-in users only, decided by the same policy as the proxies'.
//   JWT_SECRET=... PORT=3000 node examples/node-server.mjs
import http from "node:http";
import { Policy } from "pg-auth-filter";

const policy = new Policy(
  { secret_env: "JWT_SECRET", secret_is_base64: true, public_routes: [{ prefix: "/public/" }] },
  process.env,
);

http
  .createServer((req, res) => {
    const decision = policy.decide({ method: req.method, path: req.url, headers: req.headers });
    if (!decision.allow) {
      res.writeHead(decision.status, decision.headers);
      res.end(decision.body);
      return;
    }
    const who = policy.verify(req.headers.cookie);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end(who.valid ? `Hello, ${who.claims.sub}\n` : "Hello, visitor\n");
  })
  .listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
