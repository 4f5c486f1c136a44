import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run example:frontend` driven in headless Chromium: a page on one origin signs a member in
 * with the demo issuer, gets the member's own Circle token from the gateway on another origin
 * (CORS_ORIGINS), refreshes it, is refused someone else's, and revokes it on sign-out.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
const inCI = Boolean(process.env.CI);
if (!available && !inCI) {
  console.warn(
    `\n*** SKIPPED: the frontend example's browser test needs Chromium at ${executablePath}.` +
      "\n*** Install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH. Under CI=true it never skips.\n",
  );
}

describe.skipIf(!available && !inCI)('the frontend example in a real browser (headless Chromium)', () => {
  let example: ChildProcess;
  let browser: Browser;
  let pageUrl: string;
  let gatewayUrl: string;

  beforeAll(async () => {
    if (!available)
      throw new Error(`CI=true and no Chromium at ${executablePath}: .ci/run should have installed it`);
    example = spawn(`${root}node_modules/.bin/tsx`, ['examples/frontend/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', EXAMPLE_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    [pageUrl, gatewayUrl] = await new Promise<[string, string]>((resolve, reject) => {
      example.stdout?.on('data', (chunk) => {
        out += chunk;
        const found = /open (http:\S+\/) \(the gateway is at (http:\S+\/graphql)\)/.exec(out);
        if (found) resolve([found[1] as string, found[2] as string]);
      });
      example.stderr?.on('data', (chunk) => {
        out += chunk;
      });
      example.once('exit', (code) => reject(new Error(`the example exited with ${code}: ${out}`)));
    });
    browser = await chromium.launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-sync',
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    // The example, its tsx and the gateway it started: the whole process group.
    if (example?.pid) process.kill(-example.pid, 'SIGTERM');
  });

  it('signs in, gets and refreshes the member’s own token across origins, is refused another’s, and revokes on sign-out', async () => {
    expect(new URL(pageUrl).origin).not.toBe(new URL(gatewayUrl).origin);
    const page = await browser.newPage();
    const toGateway: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(gatewayUrl)) toGateway.push(request.method());
    });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const status = page.locator('#status');
    // What the page reported, shown when a step does not arrive in time.
    const poll = () => ({ timeout: 10_000, message: `page errors: ${errors.join(' | ') || 'none'}` });
    await page.goto(pageUrl);
    // The page's module has loaded (and read where the gateway is).
    await expect.poll(() => status.textContent(), poll()).toBe('Signed out: sign in as a demo member.');
    await page.click('#sign-in');
    await expect.poll(() => status.textContent(), poll()).toBe('Signed in as ada@example.com.');
    await page.click('#get-token');
    await expect
      .poll(() => status.textContent(), poll())
      .toMatch(/^Circle token for member 1, valid until \d{4}-\d\d-\d\dT/);
    await page.click('#refresh');
    await expect
      .poll(() => status.textContent(), poll())
      .toMatch(/^Refreshed: a new access token, valid until \d{4}-/);
    await page.click('#ask-other');
    await expect
      .poll(() => status.textContent(), poll())
      .toBe('FORBIDDEN: You may not get tokens for that member.');
    await page.click('#sign-out');
    await expect.poll(() => status.textContent(), poll()).toBe('Signed out: the refresh token is revoked.');
    // Every call went to the gateway as POST (after the CORS preflights), never as GET.
    expect(toGateway.filter((method) => method !== 'OPTIONS')).toEqual(Array(4).fill('POST'));
    expect(errors).toEqual([]);
  }, 60_000);
});
