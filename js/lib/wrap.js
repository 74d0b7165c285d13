// The package's API over the wasm-bindgen bindings (pkg/node or pkg/web):
// objects in, objects out; the policy itself is the Rust one.

/** Header values from a plain object (Node's `req.headers`) or a `Headers`. */
function headerObject(headers) {
  const out = {};
  const add = (name, value) => {
    if (value === undefined || value === null) return;
    const key = String(name).toLowerCase();
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    out[key] = key in out ? [].concat(out[key], values) : values.length === 1 ? values[0] : values;
  };
  if (headers && typeof headers.forEach === "function" && typeof headers.get === "function") {
    headers.forEach((value, name) => add(name, value));
  } else {
    for (const [name, value] of Object.entries(headers ?? {})) add(name, value);
  }
  return out;
}

/** Only string values: what `process.env` holds, and nothing else. */
function environment(env) {
  return Object.fromEntries(Object.entries(env ?? {}).filter(([, value]) => typeof value === "string"));
}

function unixSeconds() {
  return Date.now() / 1000;
}

export function wrap(bindings) {
  class Policy {
    #inner;

    /**
     * @param config the filter configuration (an object or its JSON text)
     * @param env environment variables for "secret_env", e.g. process.env
     */
    constructor(config, env = {}) {
      const json = typeof config === "string" ? config : JSON.stringify(config);
      this.#inner = new bindings.Policy(json, JSON.stringify(environment(env)));
    }

    /** The decision for a request: forward (with header changes) or deny. */
    decide({ method, path, headers }, now = unixSeconds()) {
      const request = JSON.stringify({ method: String(method), path: String(path), headers: headerObject(headers) });
      return JSON.parse(this.#inner.decide(request, now));
    }

    /** The verified claims of the access cookie in a Cookie header, or why not. */
    verify(cookieHeader, now = unixSeconds()) {
      return JSON.parse(this.#inner.verify(cookieHeader ?? "", now));
    }

    /** Releases the WebAssembly memory now rather than at garbage collection. */
    free() {
      this.#inner.free();
    }
  }
  return { Policy };
}
