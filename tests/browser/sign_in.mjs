// A person at a browser, for cli/tests/browser.rs: run as `$BROWSER` by `mcp-client` (as
// `node sign_in.mjs URL`), it opens the sign-in URL in headless Chromium, fills the test
// authorization server's login form, answers its consent page and follows the redirect to the
// CLI's loopback listener, taking a screenshot of each page. The CLI starts it and does not
// wait for it, so everything it saw goes to files in $MCP_BROWSER_SHOTS:
//   login.png, login-error.png, consent.png, landing.png   the pages, as they looked
//   result.json   {scenario, steps: [...], loginError, consentText, landing: {url, title,
//                  text}, error}; written last (through a rename), so its presence means done
//   driver.log    what it did, step by step
//   pid           its process id (so the test can stop it if it hangs)
//
// Environment:
//   MCP_BROWSER_SCENARIO   ok | wrong-password | wrong-password-retry | deny | close
//     ok                    sign in, Allow
//     wrong-password        a wrong password, read the error on the form, give up (close)
//     wrong-password-retry  a wrong password, read the error, then the right one, Allow
//     deny                  sign in, Deny
//     close                 sign in, then close the tab on the consent page
//   MCP_BROWSER_SHOTS      the output directory (required)
//   MCP_BROWSER_USER, MCP_BROWSER_PASSWORD   the right credentials (default ada / lovelace)
//   MCP_BROWSER_DIR        where `npm ci` put node_modules (default <repo>/target/browser)
//   MCP_CHROMIUM           the browser (default /usr/bin/chromium)
//   MCP_BROWSER_TIMEOUT_MS bound on the whole run (default 60000); each step has its own
//
// Exit status: 0 when the scenario played out, 1 otherwise (the error is in result.json).

import { createRequire } from 'node:module';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scenario = process.env.MCP_BROWSER_SCENARIO || 'ok';
const shots = process.env.MCP_BROWSER_SHOTS;
const user = process.env.MCP_BROWSER_USER || 'ada';
const password = process.env.MCP_BROWSER_PASSWORD || 'lovelace';
const modules = process.env.MCP_BROWSER_DIR || resolve(here, '../../target/browser');
const chromiumPath = process.env.MCP_CHROMIUM || '/usr/bin/chromium';
const overall = Number(process.env.MCP_BROWSER_TIMEOUT_MS || 60000);
const STEP = 20000;

const url = process.argv[2];
if (!shots || !url) {
  console.error('usage: MCP_BROWSER_SHOTS=DIR node sign_in.mjs URL');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
writeFileSync(join(shots, 'pid'), String(process.pid));

const started = Date.now();
function log(msg) {
  appendFileSync(join(shots, 'driver.log'), `${((Date.now() - started) / 1000).toFixed(2)}s ${msg}\n`);
}

const result = { scenario, steps: [], loginError: null, consentText: null, landing: null, error: null };
function finish(code) {
  const tmp = join(shots, 'result.json.tmp');
  writeFileSync(tmp, JSON.stringify(result, null, 2));
  renameSync(tmp, join(shots, 'result.json'));
  log(`done (${code})`);
  process.exit(code);
}

// Never outlive the bound, whatever hangs.
const guard = setTimeout(() => {
  result.error = `the driver gave up after ${overall} ms`;
  log(result.error);
  finish(1);
}, overall);

let browser;
async function main() {
  const require = createRequire(join(modules, 'package.json'));
  const { chromium } = require('playwright-core');
  log(`scenario ${scenario}; launching ${chromiumPath}`);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox'],
    timeout: STEP,
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
  page.setDefaultTimeout(STEP);
  const step = (s) => {
    result.steps.push(s);
    log(s);
  };

  await page.goto(url, { waitUntil: 'load' });
  step(`login page: ${await page.title()}`);
  await page.locator('#username').waitFor();
  await page.screenshot({ path: join(shots, 'login.png') });

  async function signIn(pw) {
    await page.fill('#username', user);
    await page.fill('#password', pw);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#sign-in')]);
  }

  if (scenario === 'wrong-password' || scenario === 'wrong-password-retry') {
    await signIn(`${password}-wrong`);
    result.loginError = (await page.locator('#error').innerText()).trim();
    step(`wrong password: ${result.loginError}`);
    await page.screenshot({ path: join(shots, 'login-error.png') });
    if (scenario === 'wrong-password') {
      step('giving up: closing the tab');
      await page.close();
      return;
    }
  }

  await signIn(password);
  await page.locator('#allow').waitFor();
  result.consentText = (await page.locator('body').innerText()).trim();
  step(`consent page: ${await page.title()}`);
  await page.screenshot({ path: join(shots, 'consent.png') });

  if (scenario === 'close') {
    step('closing the tab on the consent page');
    await page.close();
    return;
  }
  const button = scenario === 'deny' ? '#deny' : '#allow';
  // The redirect leaves the authorization server for the loopback listener.
  const origin = new URL(url).origin;
  await Promise.all([
    page.waitForURL((u) => u.origin !== origin, { waitUntil: 'load' }),
    page.click(button),
  ]);
  const landed = new URL(page.url());
  result.landing = {
    // Where it landed and the names of the parameters (not the code itself).
    url: `${landed.origin}${landed.pathname}`,
    params: [...landed.searchParams.keys()],
    error: landed.searchParams.get('error'),
    title: await page.title(),
    text: (await page.locator('body').innerText()).trim(),
  };
  step(`landed on ${result.landing.url}: ${result.landing.title}`);
  await page.screenshot({ path: join(shots, 'landing.png') });
}

try {
  await main();
  clearTimeout(guard);
  if (browser) await browser.close();
  finish(0);
} catch (e) {
  clearTimeout(guard);
  result.error = String(e && e.stack ? e.stack : e);
  log(`failed: ${result.error}`);
  try {
    if (browser) await browser.close();
  } catch {
    // already gone
  }
  finish(1);
}
