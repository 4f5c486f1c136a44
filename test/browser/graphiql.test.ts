import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(executablePath);
const inCI = Boolean(process.env.CI);
if (!available && !inCI) {
  console.warn(
    `\n*** SKIPPED: the GraphiQL browser test needs Chromium at ${executablePath}.` +
      "\n*** Install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH. Under CI=true it never skips.\n",
  );
}

describe.skipIf(!available && !inCI)('GraphiQL in a real browser (headless Chromium)', () => {
  let stack: Stack;
  let server: Server;
  let browser: Browser;

  beforeAll(async () => {
    if (!available)
      throw new Error(`CI=true and no Chromium at ${executablePath}: .ci/run should have installed it`);
    stack = await startStack();
    server = createServer(stack.gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    browser = await chromium.launch({
      executablePath,
      // Playwright gives every launch a fresh temporary profile of its own.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await stack?.close();
  });

  it('opens GraphiQL with local assets, runs memberToken by clicking Run, and shows an access token', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      // blob: and data: URLs are the page's own (Monaco's workers); anything else must be this gateway.
      const url = request.url();
      if (/^https?:/.test(url) && !url.startsWith('http://127.0.0.1:')) external.push(url);
    });
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/graphql`);
    await page.locator('.graphiql-execute-button').click({ timeout: 30_000 });
    // The starting document holds the six example operations; Run asks which one.
    const menu = page.locator('[role="menuitem"]');
    await expect
      .poll(() => menu.allInnerTexts(), { timeout: 10_000 })
      .toEqual([
        'MemberTokenByEmail',
        'MemberTokenById',
        'MemberTokenBySso',
        'RefreshToken',
        'RevokeRefreshToken',
        'RevokeAccessToken',
      ]);
    await menu.filter({ hasText: 'MemberTokenByEmail' }).click();
    const result = page.locator('.graphiql-response');
    // The result pane wraps long lines; compare with white space removed.
    const shown = async () => ((await result.textContent()) ?? '').replace(/\s+/g, '');
    await expect.poll(shown, { timeout: 20_000 }).toMatch(/"accessToken":"eyJ[\w-]+\.[\w-]+\.[\w-]+"/);
    expect(await shown()).toContain('"__typename":"MemberToken"');
    expect(stack.sandbox.stats().calls.authToken).toBe(1);
    expect(external).toEqual([]);
  }, 60_000);
});
