// Node: the bindings load the WebAssembly synchronously from pkg/node.
import { createRequire } from "node:module";
import { wrap } from "./lib/wrap.js";

const require = createRequire(import.meta.url);
const bindings = require("./pkg/node/proxy_filter.js");

export const { Policy } = wrap(bindings);
