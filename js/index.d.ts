/** The filter configuration: see the project's docs/filter.md. */
export type PolicyConfig = Record<string, unknown>;

export interface RequestInput {
  method: string;
  /** Path and query, as received. */
  path: string;
  /** Node's `req.headers`, a fetch `Headers`, or a plain object. */
  headers?: Record<string, string | string[] | undefined> | Headers;
}

export interface Forward {
  allow: true;
  /** Metric name of the outcome, e.g. "decision.allowed". */
  outcome: string;
  /** Headers to set on the request to the upstream (Authorization, claims). */
  headers: Record<string, string>;
  /** Headers to remove from it first (client copies of those). */
  removeHeaders: string[];
}

export interface Denial {
  allow: false;
  outcome: string;
  status: number;
  headers: Record<string, string>;
  /** PostgREST-shaped JSON: code, message, details (a stable slug), hint. */
  body: string;
}

export type Verified =
  | { valid: true; claims: Record<string, unknown> }
  | { valid: false; reason: string };

export declare class Policy {
  /** Throws on a bad configuration, with the reason. */
  constructor(config: PolicyConfig | string, env?: Record<string, string | undefined>);
  decide(request: RequestInput, now?: number): Forward | Denial;
  verify(cookieHeader: string | null | undefined, now?: number): Verified;
  free(): void;
}

/** web and edge builds only: load the WebAssembly first. */
export declare function load(
  wasm?: string | URL | Response | BufferSource | WebAssembly.Module,
): Promise<{ Policy: typeof Policy }>;
