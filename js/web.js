// Browsers, Deno, edge runtimes: load() first, with the .wasm as a URL, a
// Response, bytes or a WebAssembly.Module (what the runtime's bundler gives).
import init, * as bindings from "./pkg/web/proxy_filter.js";
import { wrap } from "./lib/wrap.js";

let loaded;

export async function load(wasm) {
  if (!loaded) {
    loaded = init(wasm === undefined ? undefined : { module_or_path: wasm }).then(() => wrap(bindings));
  }
  return loaded;
}
