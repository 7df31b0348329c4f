// benches/compare peer driver: the official MCP TypeScript SDK (@modelcontextprotocol/sdk)
// client over its StreamableHTTPClientTransport, the bearer token passed through the
// transport's documented `requestInit.headers`. K calls in flight = K async workers (promises)
// sharing the one Client. Contract: benches/compare/README.md. Only the RESULT line on stdout.
// Also `--auth cold|warm|storm` (the SDK's OAuthClientProvider / authProvider, see authMain) and
// `--hold N` (N Clients held open, see holdMain).
import { createRequire } from "node:module";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

function parseArgs(argv) {
  const a = {
    url: null, token: "", calls: 1000, inflight: 1, warmup: 0,
    auth: null, store: null, expireUrl: null, hold: null, callsGiven: false,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    switch (k) {
      case "--url": a.url = v; break;
      case "--token": a.token = v; break;
      case "--calls": a.calls = parseInt(v, 10); a.callsGiven = true; break;
      case "--inflight": a.inflight = Math.max(1, parseInt(v, 10)); break;
      case "--warmup": a.warmup = parseInt(v, 10); break;
      case "--auth": a.auth = v; break;
      case "--store": a.store = v; break;
      case "--expire-url": a.expireUrl = v; break;
      case "--hold": a.hold = parseInt(v, 10); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  if (!a.url) throw new Error("--url is required");
  return a;
}

function sdkVersion() {
  try {
    const require = createRequire(import.meta.url);
    // package.json is not in the SDK's exports map; read it from the resolved entry's root.
    const path = require.resolve("@modelcontextprotocol/sdk/client/index.js");
    const root = path.slice(0, path.lastIndexOf("/dist/"));
    return require(`${root}/package.json`).version;
  } catch {
    return "unknown";
  }
}

let firstError = null;
async function echoCall(client) {
  try {
    const r = await client.callTool({ name: "echo", arguments: { text: "hello" } });
    const c = r.content && r.content[0];
    if (r.isError !== true && c && c.type === "text" && c.text === "hello") return true;
    throw new Error(`unexpected result: ${JSON.stringify(r)}`);
  } catch (e) {
    if (firstError === null) firstError = e;
    return false;
  }
}

// n calls with k concurrent workers on one client; returns [ok, latencies in µs].
async function runCalls(client, n, k) {
  let next = 0, ok = 0;
  const lat = [];
  const worker = async () => {
    while (next < n) {
      next++;
      const t0 = process.hrtime.bigint();
      const good = await echoCall(client);
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (good) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, Math.max(n, 1)) }, worker));
  return [ok, lat];
}

const pct = (s, q) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] : 0);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.auth !== null) return authMain(args);
  if (args.hold !== null) return holdMain(args);
  const transport = new StreamableHTTPClientTransport(new URL(args.url), {
    requestInit: { headers: { Authorization: `Bearer ${args.token}` } },
  });
  const client = new Client({ name: "compare-typescript-sdk", version: "0.0.0" });
  let ok = 0, lat = [], wallUs = 0, cpuUs = 0;
  try {
    await client.connect(transport);
    if (args.warmup > 0) {
      const [wok] = await runCalls(client, args.warmup, args.inflight);
      if (wok !== args.warmup) console.error(`warm-up: ${wok}/${args.warmup} ok`);
      firstError = null;
    }
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    [ok, lat] = await runCalls(client, args.calls, args.inflight);
    wallUs = Math.round(Number(process.hrtime.bigint() - t0) / 1000);
    const c1 = process.cpuUsage(c0);
    cpuUs = c1.user + c1.system;
    if (firstError) console.error("first error:", firstError);
    try {
      await transport.terminateSession(); // DELETE of the session
    } catch (e) {
      console.error("terminateSession:", e);
    }
    await client.close();
  } catch (e) {
    console.error("driver failed:", e);
  }
  lat.sort((a, b) => a - b);
  const result = {
    client: "typescript-sdk",
    version: sdkVersion(),
    calls: args.calls,
    ok,
    wall_us: wallUs,
    p50_us: Math.round(pct(lat, 0.5) * 10) / 10,
    p99_us: Math.round(pct(lat, 0.99) * 10) / 10,
    cpu_us: cpuUs,
    peak_rss_kb: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exitCode = ok === args.calls ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Scenarios 3 and 4 (`--auth cold|warm|storm`): the SDK's own OAuth client. The transport takes
// an `authProvider` (the SDK's `OAuthClientProvider` interface, implemented here over one JSON
// file in --store); on a 401 the transport runs the SDK's `auth()` (discovery, dynamic
// registration, refresh, or the start of an authorization-code + PKCE sign-in). For a sign-in
// the SDK calls `redirectToAuthorization(url)`, returns 'REDIRECT', and the connect fails with
// `UnauthorizedError`; the application then brings back the code and calls
// `transport.finishAuth(code)` and connects again on a new transport (as in the SDK's example
// examples/client/simpleOAuthClient.js). Headless: the "browser" is one GET of the
// authorization URL without following redirects; the code and state come from its Location.

const STORE_FILE = "oauth-store.json";

// A free loopback port for the redirect URI (nothing listens there: the code is handed back
// through finishAuth, not through a loopback listener).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

class FileOAuthProvider {
  constructor(dir) {
    this._path = join(dir, STORE_FILE);
    this._data = existsSync(this._path) ? JSON.parse(readFileSync(this._path, "utf8")) : {};
    this._codeVerifier = undefined;
    this._state = undefined;
    this.pendingAuthorizationUrl = undefined;
    this.redirects = 0;
  }
  _write() {
    const tmp = `${this._path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this._data));
    renameSync(tmp, this._path);
  }
  async ensureRedirectUrl() {
    if (!this._data.redirect_url) {
      this._data.redirect_url = `http://127.0.0.1:${await freePort()}/callback`;
      this._write();
    }
  }
  get redirectUrl() { return this._data.redirect_url; }
  get clientMetadata() {
    return {
      client_name: "compare-typescript-sdk",
      redirect_uris: [this._data.redirect_url],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this._state = randomBytes(16).toString("base64url");
    return this._state;
  }
  get lastState() { return this._state; }
  clientInformation() { return this._data.client_information; }
  saveClientInformation(info) { this._data.client_information = info; this._write(); }
  tokens() { return this._data.tokens; }
  saveTokens(tokens) { this._data.tokens = tokens; this._write(); }
  redirectToAuthorization(url) {
    this.redirects++;
    this.pendingAuthorizationUrl = url;
  }
  saveCodeVerifier(v) { this._codeVerifier = v; }
  codeVerifier() {
    if (!this._codeVerifier) throw new Error("no code verifier saved");
    return this._codeVerifier;
  }
  invalidateCredentials(scope) {
    if (scope === "all" || scope === "client") delete this._data.client_information;
    if (scope === "all" || scope === "tokens") delete this._data.tokens;
    if (scope === "all" || scope === "discovery") delete this._data.discovery_state;
    if (scope === "all" || scope === "verifier") this._codeVerifier = undefined;
    this._write();
  }
  saveDiscoveryState(state) { this._data.discovery_state = state; this._write(); }
  discoveryState() { return this._data.discovery_state; }
}

// The headless "browser": one GET of the authorization URL, redirects not followed.
async function headlessAuthorize(authorizationUrl) {
  const r = await fetch(authorizationUrl, { redirect: "manual" });
  await r.body?.cancel();
  const loc = r.headers.get("location");
  if (!loc) throw new Error(`authorization endpoint answered ${r.status} without Location`);
  const u = new URL(loc, authorizationUrl);
  const err = u.searchParams.get("error");
  if (err) throw new Error(`authorization failed: ${err}`);
  return { code: u.searchParams.get("code"), state: u.searchParams.get("state") };
}

// Connect `client` the way the SDK's OAuth example does: try; on UnauthorizedError with a
// pending authorization URL, sign in (headless), finishAuth(code), connect on a new transport.
async function connectWithOAuth(client, provider, url) {
  let transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  try {
    await client.connect(transport);
    return transport;
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.pendingAuthorizationUrl) throw e;
  }
  const authorizationUrl = provider.pendingAuthorizationUrl;
  provider.pendingAuthorizationUrl = undefined;
  const { code, state } = await headlessAuthorize(authorizationUrl);
  if (!code) throw new Error("no code in the authorization response");
  if (state !== provider.lastState) throw new Error(`state mismatch: ${state} != ${provider.lastState}`);
  await transport.finishAuth(code);
  transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await client.connect(transport);
  return transport;
}

async function closeClient(client, transport) {
  try {
    await transport.terminateSession(); // DELETE of the session
  } catch (e) {
    console.error("terminateSession:", e);
  }
  await client.close();
}

async function authMain(args) {
  const mode = args.auth;
  if (!["cold", "warm", "storm"].includes(mode)) throw new Error(`unknown --auth mode ${mode}`);
  if (!args.store) throw new Error("--store is required with --auth");
  if (mode === "storm" && !args.expireUrl) throw new Error("--expire-url is required with --auth storm");
  const calls = mode === "storm" ? (args.callsGiven ? args.calls : 1000) : 1;
  const url = new URL(args.url);
  let ok = 0, lat = [], wallUs = 0, cpuUs = 0;
  let provider = null;
  try {
    if (mode === "cold" || mode === "warm") {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      provider = new FileOAuthProvider(args.store);
      await provider.ensureRedirectUrl();
      const client = new Client({ name: "compare-typescript-sdk", version: "0.0.0" });
      const transport = await connectWithOAuth(client, provider, url);
      const good = await echoCall(client);
      wallUs = Math.round(Number(process.hrtime.bigint() - t0) / 1000);
      const c1 = process.cpuUsage(c0);
      cpuUs = c1.user + c1.system;
      lat = [wallUs];
      ok = good ? 1 : 0;
      if (firstError) console.error("first error:", firstError);
      console.error(`${mode}: sign-ins (redirectToAuthorization): ${provider.redirects}`);
      await closeClient(client, transport);
    } else {
      provider = new FileOAuthProvider(args.store);
      await provider.ensureRedirectUrl();
      const client = new Client({ name: "compare-typescript-sdk", version: "0.0.0" });
      const transport = await connectWithOAuth(client, provider, url);
      if (!(await echoCall(client))) throw firstError ?? new Error("first call failed");
      const redirectsBefore = provider.redirects;
      const r = await fetch(args.expireUrl, { method: "POST" });
      await r.body?.cancel();
      if (r.status >= 300) throw new Error(`expire: HTTP ${r.status}`);
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const one = async () => {
        const s = process.hrtime.bigint();
        const good = await echoCall(client);
        lat.push(Number(process.hrtime.bigint() - s) / 1000);
        return good;
      };
      const results = await Promise.all(Array.from({ length: calls }, one));
      wallUs = Math.round(Number(process.hrtime.bigint() - t0) / 1000);
      const c1 = process.cpuUsage(c0);
      cpuUs = c1.user + c1.system;
      ok = results.filter(Boolean).length;
      if (firstError) console.error("first error:", firstError);
      console.error(`storm: ${ok}/${calls} ok; sign-ins asked for (redirectToAuthorization) during the storm: ${provider.redirects - redirectsBefore}`);
      await closeClient(client, transport);
    }
  } catch (e) {
    console.error("driver failed:", e);
  }
  lat.sort((a, b) => a - b);
  const result = {
    client: "typescript-sdk",
    version: sdkVersion(),
    calls,
    ok,
    wall_us: wallUs,
    p50_us: Math.round(pct(lat, 0.5) * 10) / 10,
    p99_us: Math.round(pct(lat, 0.99) * 10) / 10,
    cpu_us: cpuUs,
    peak_rss_kb: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exitCode = ok === calls ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Scenario 5 (`--hold N`): N Client objects, each on its own transport and session (bearer
// header as in scenario 1), one echo call each, RSS read while all are open, then all closed.
async function holdMain(args) {
  const n = args.hold;
  const held = [];
  let ok = 0, rssKb = 0;
  try {
    for (let i = 0; i < n; i++) {
      const transport = new StreamableHTTPClientTransport(new URL(args.url), {
        requestInit: { headers: { Authorization: `Bearer ${args.token}` } },
      });
      const client = new Client({ name: "compare-typescript-sdk", version: "0.0.0" });
      await client.connect(transport);
      held.push([client, transport]);
    }
    for (const [client] of held) if (await echoCall(client)) ok++;
    rssKb = Math.round(process.memoryUsage().rss / 1024);
    if (firstError) console.error("first error:", firstError);
  } catch (e) {
    console.error("driver failed:", e);
  }
  for (const [client, transport] of held) {
    try {
      await closeClient(client, transport);
    } catch (e) {
      console.error("close:", e);
    }
  }
  const result = {
    client: "typescript-sdk",
    version: sdkVersion(),
    clients: n,
    ok,
    rss_kb: rssKb,
    peak_rss_kb: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exitCode = ok === n ? 0 : 1;
}

main();
