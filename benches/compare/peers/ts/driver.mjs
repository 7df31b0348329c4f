// benches/compare peer driver: the official MCP TypeScript SDK (@modelcontextprotocol/sdk)
// client over its StreamableHTTPClientTransport, the bearer token passed through the
// transport's documented `requestInit.headers`. K calls in flight = K async workers (promises)
// sharing the one Client. Contract: benches/compare/README.md. Only the RESULT line on stdout.
import { createRequire } from "node:module";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

function parseArgs(argv) {
  const a = { url: null, token: "", calls: 1000, inflight: 1, warmup: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    switch (k) {
      case "--url": a.url = v; break;
      case "--token": a.token = v; break;
      case "--calls": a.calls = parseInt(v, 10); break;
      case "--inflight": a.inflight = Math.max(1, parseInt(v, 10)); break;
      case "--warmup": a.warmup = parseInt(v, 10); break;
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

main();
