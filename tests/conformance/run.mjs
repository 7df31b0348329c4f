#!/usr/bin/env node
// Runs scenarios of the official MCP conformance suite (client mode) against a client command,
// one scenario at a time, and prints a line per scenario and a closing "N passed, M failed".
//
//   node tests/conformance/run.mjs --flavor stable --client target/debug/mcp-conformance-client \
//        initialize tools_call sse-retry
//   node tests/conformance/run.mjs --flavor alpha --list
//
// Options:
//   --flavor stable|alpha   which pinned suite (package.json beside this file)
//   --client CMD            the client command; the suite appends the server URL
//   --timeout MS            per-scenario client timeout (default 30000)
//   --out DIR               where logs and checks go (default target/conformance/results)
//   --list                  print the suite's client scenarios and exit
//   --all                   run every client scenario the suite lists (besides any named)
//   --exclude NAME          with --all, skip NAME (repeatable; a trailing * matches a prefix)
//   -v                      print the failing checks under each failed scenario
//
// A scenario passes when the suite's own verdict is success: exit 0, no FAILURE and no WARNING
// check. The suite is installed on first use with `npm ci` into target/conformance/<flavor>.
// Scenarios run one at a time: on two cores timing checks (sse-retry) fail when run in parallel.

import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function parseArgs(argv) {
  const o = { flavor: 'stable', client: '', timeout: 30000, out: '', list: false, all: false,
              exclude: [], verbose: false, scenarios: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) die(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--flavor': o.flavor = val(); break;
      case '--client': o.client = val(); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--out': o.out = val(); break;
      case '--list': o.list = true; break;
      case '--all': o.all = true; break;
      case '--exclude': o.exclude.push(val()); break;
      case '-v': case '--verbose': o.verbose = true; break;
      default:
        if (a.startsWith('-')) die(`unknown option ${a}`);
        o.scenarios.push(a);
    }
  }
  if (!['stable', 'alpha'].includes(o.flavor)) die(`unknown flavor ${o.flavor}`);
  return o;
}

function die(msg) {
  console.error(`conformance: ${msg}`);
  process.exit(2);
}

/** Install the pinned suite (once per lock file) and return the CLI entry point. */
function install(flavor) {
  const src = path.join(here, flavor);
  const dest = path.join(root, 'target', 'conformance', flavor);
  const entry = path.join(dest, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  const lock = fs.readFileSync(path.join(src, 'package-lock.json'));
  const installedLock = path.join(dest, 'package-lock.json');
  const fresh = fs.existsSync(entry) && fs.existsSync(installedLock) &&
    Buffer.compare(fs.readFileSync(installedLock), lock) === 0;
  if (!fresh) {
    fs.mkdirSync(dest, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(src, f), path.join(dest, f));
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dest, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) die(`npm ci failed for the ${flavor} suite`);
  }
  return entry;
}

function suiteArgs(entry) {
  return ['--import', path.join(here, 'node20-compat.mjs'), entry];
}

function listScenarios(entry) {
  const r = spawnSync(process.execPath, [...suiteArgs(entry), 'list', '--client'], { encoding: 'utf8' });
  if (r.status !== 0) die(`cannot list scenarios: ${r.stderr}`);
  return r.stdout.split('\n').map((l) => l.match(/^\s+- (\S+)/)).filter(Boolean).map((m) => m[1]);
}

function findChecks(dir) {
  if (!fs.existsSync(dir)) return null;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { const f = findChecks(p); if (f) return f; }
    else if (e.name === 'checks.json') return p;
  }
  return null;
}

function runOne(entry, o, scenario, outDir) {
  return new Promise((resolve) => {
    const safe = scenario.replace(/\//g, '_');
    const dir = path.join(outDir, safe);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const log = fs.openSync(path.join(dir, 'run.log'), 'w');
    const started = Date.now();
    const args = [...suiteArgs(entry), 'client', '--command', o.client, '--scenario', scenario,
                  '--timeout', String(o.timeout), '-o', dir];
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    child.on('close', (code) => {
      fs.closeSync(log);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const file = findChecks(dir);
      const checks = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
      const count = (s) => checks.filter((c) => c.status === s).length;
      const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')
        .map((c) => `${c.id}=${c.status}${c.errorMessage ? ` (${c.errorMessage})` : ''}`);
      resolve({ scenario, pass: code === 0 && bad.length === 0, code, secs,
                ok: count('SUCCESS'), total: count('SUCCESS') + count('FAILURE') + count('WARNING'),
                bad, log: path.join(dir, 'run.log') });
    });
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const entry = install(o.flavor);
  const known = listScenarios(entry);
  if (o.list) { console.log(known.join('\n')); return; }
  if (!o.client) die('--client is required');
  const excluded = (s) => o.exclude.some((x) => (x.endsWith('*') ? s.startsWith(x.slice(0, -1)) : s === x));
  const chosen = [...o.scenarios];
  if (o.all) for (const s of known) if (!excluded(s) && !chosen.includes(s)) chosen.push(s);
  for (const s of chosen) if (!known.includes(s)) die(`the ${o.flavor} suite has no scenario ${s}`);
  if (chosen.length === 0) die('no scenario chosen (name some, or --all)');
  const outDir = path.resolve(o.out || path.join(root, 'target', 'conformance', 'results', o.flavor));

  let passed = 0;
  let failed = 0;
  console.log(`conformance (${o.flavor}): ${chosen.length} scenarios, results in ${outDir}`);
  for (const s of chosen) {
    const r = await runOne(entry, o, s, outDir);
    r.pass ? passed++ : failed++;
    console.log(`${r.pass ? 'PASS' : 'FAIL'}  ${s.padEnd(44)} ${String(r.ok).padStart(2)}/${String(r.total).padEnd(3)} ${r.secs}s`);
    if (!r.pass && o.verbose) {
      for (const b of r.bad) console.log(`      ${b}`);
      if (r.code !== 0) console.log(`      suite exit ${r.code}; log: ${r.log}`);
    }
  }
  console.log(`conformance: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
