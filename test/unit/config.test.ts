import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { withConfigurationTable } from '../../src/config/readme.js';
import {
  type Declaration,
  environmentNames,
  schemaOf,
  type VariableName,
  variables,
} from '../../src/config/variables.js';

describe('the configuration table (src/config/variables.ts)', () => {
  it('is what the README shows (run `npm run docs` after changing it)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toBe(withConfigurationTable(readme));
    for (const name of environmentNames()) expect(readme).toContain(`| \`${name}\` |`);
    expect(environmentNames()).toContain('GATEWAY_API_KEYS_FILE');
  });

  it('shows each default as the code applies it', () => {
    const names = Object.keys(variables) as VariableName[];
    expect(names.length).toBe(66);
    for (const name of names) {
      const declared: Declaration = variables[name];
      const parsed = schemaOf(name, { production: false, sandbox: false }).safeParse(undefined);
      const value = parsed.success ? parsed.data : undefined;
      const shown = /^`([^`]*)`/.exec(declared.shownDefault)?.[1];
      if (!parsed.success) expect(declared.shownDefault, name).toMatch(/^required/);
      else if (value === undefined || (Array.isArray(value) && value.length === 0))
        expect(declared.shownDefault, name).toMatch(/^unset/);
      else expect(shown, name).toBe(String(value));
    }
  });
});

describe('configuration', () => {
  it('has sane defaults: sandbox mode on loopback port 4000, GraphiQL on outside production', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      circleAppToken: undefined,
      circleBaseUrl: 'https://app.circle.so',
      host: '127.0.0.1',
      port: 4000,
      graphiql: true,
      introspection: true,
      upstreamConcurrency: 8,
      maxUpstreamCallsPerOperation: 50,
    });
  });

  it('reads sessions: off by default, its settings when on, and never with CORS_ORIGINS=*', () => {
    expect(loadConfig({}).sessions).toBeUndefined();
    expect(loadConfig({ SESSIONS: 'required', CORS_ORIGINS: 'http://localhost:5173' }).sessions).toEqual({
      mode: 'required',
      cookieName: '__Host-circle-session',
      refreshMarginS: 300,
      idleTimeoutS: 86_400,
      maxAgeS: 604_800,
      sweepIntervalS: 60,
    });
    expect(() => loadConfig({ SESSIONS: 'on', CORS_ORIGINS: '*' })).toThrow(
      'CORS_ORIGINS, SESSIONS: expected a list of origins with SESSIONS=on, got "*"',
    );
    expect(() => loadConfig({ SESSIONS: 'on', SESSION_COOKIE_NAME: 'circle-session' })).toThrow(
      'SESSION_COOKIE_NAME: expected a cookie name starting with __Host- (letters, digits, _ . -), got "circle-session"',
    );
    expect(() => loadConfig({ SESSIONS: 'yes' })).toThrow(
      'SESSIONS: expected off, on or required, got "yes"',
    );
    expect(() => loadConfig({ SESSIONS: 'on', SESSION_REFRESH_MARGIN_S: '3600' })).toThrow(
      'SESSION_REFRESH_MARGIN_S: expected an integer from 0 to 3000 (shorter than Circle\'s one-hour access tokens), got "3600"',
    );
  });

  it('reads CORS origins as a list of origins, or *', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example/, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
  });

  it('turns GraphiQL and introspection off in production unless enabled', () => {
    const production = { NODE_ENV: 'production', SANDBOX: 'true' };
    expect(loadConfig(production)).toMatchObject({ graphiql: false, introspection: false });
    expect(loadConfig({ ...production, GRAPHIQL: 'true' })).toMatchObject({ graphiql: true });
  });

  const bad: Array<[Record<string, string>, string]> = [
    [
      { NODE_ENV: 'production' },
      'CIRCLE_APP_TOKEN: expected a Circle Headless Auth app token with NODE_ENV=production, got nothing (set SANDBOX=true to run the open sandbox in production on purpose)',
    ],
    [
      { SANDBOX: 'true', CIRCLE_APP_TOKEN: 'a-real-app-token-0123456789' },
      'SANDBOX, CIRCLE_APP_TOKEN: expected one of them, got both',
    ],
    [{ PORT: 'eighty' }, 'PORT: expected an integer from 0 to 65535, got "eighty"'],
    [{ PORT: '70000' }, 'PORT: expected an integer from 0 to 65535, got "70000"'],
    [
      { CIRCLE_BASE_URL: 'app.circle.so' },
      'CIRCLE_BASE_URL: expected an http(s) URL such as https://app.circle.so, got "app.circle.so"',
    ],
    [{ UPSTREAM_CONCURRENCY: '0' }, 'UPSTREAM_CONCURRENCY: expected an integer from 1 to 256, got "0"'],
    [{ GRAPHIQL: 'yes' }, 'GRAPHIQL: expected true or false, got "yes"'],
    [
      { CORS_ORIGINS: 'app.example.com' },
      'CORS_ORIGINS: expected a comma-separated list of origins such as https://app.example.com, or *, got "app.example.com"',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [
      { CIRCLE_APP_TOKEN: 'short-secret' },
      'CIRCLE_APP_TOKEN: expected a Circle Headless Auth app token (at least 16 characters) or nothing for sandbox mode, got a value of 12 characters',
    ],
  ];
  for (const [env, message] of bad) {
    it(`stops on ${JSON.stringify(env)} with one line naming the variable`, () => {
      expect(() => loadConfig(env)).toThrow(message);
    });
  }
});

describe('secrets from files (*_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cag-secrets-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const apiKey = 'file-api-key-0123456789abcdef';

  it('reads the app token, API keys and JWT secret from files, one trailing newline trimmed', () => {
    const config = loadConfig({
      CIRCLE_APP_TOKEN_FILE: file('app-token', 'a-real-app-token-0123456789\n'),
      GATEWAY_API_KEYS_FILE: file('api-keys', `billing:${apiKey}\r\n`),
      GATEWAY_JWT_SECRET_FILE: file('jwt-secret', `${'s'.repeat(40)}\n`),
      GATEWAY_JWT_ISSUER: 'https://id.example',
      GATEWAY_JWT_AUDIENCE: 'circle-gateway',
    });
    expect(config.circleAppToken).toBe('a-real-app-token-0123456789');
    expect(config.auth.apiKeys.get('billing')).toBe(apiKey);
    expect(config.auth.jwt?.secret).toBe('s'.repeat(40));
  });

  const refusals: Array<[() => Record<string, string>, string]> = [
    [
      () => ({ CIRCLE_APP_TOKEN: 'a-real-app-token-0123456789', CIRCLE_APP_TOKEN_FILE: file('both', 'x') }),
      'CIRCLE_APP_TOKEN, CIRCLE_APP_TOKEN_FILE: expected one of them, got both',
    ],
    [
      () => ({ GATEWAY_API_KEYS_FILE: join(dir, 'missing') }),
      `GATEWAY_API_KEYS_FILE: expected a readable file, got ${JSON.stringify(join(dir, 'missing'))} (ENOENT)`,
    ],
    [
      () => ({ CIRCLE_APP_TOKEN_FILE: file('empty', '\n') }),
      'CIRCLE_APP_TOKEN_FILE: expected a file holding CIRCLE_APP_TOKEN, got an empty file',
    ],
    [
      () => ({ CIRCLE_APP_TOKEN_FILE: file('short', 'short-secret\n') }),
      'CIRCLE_APP_TOKEN (from CIRCLE_APP_TOKEN_FILE): expected a Circle Headless Auth app token (at least 16 characters) or nothing for sandbox mode, got a value of 12 characters',
    ],
  ];
  for (const [env, message] of refusals) {
    it(`stops with one line: ${message.slice(0, 60)}…`, () => {
      expect(() => loadConfig(env())).toThrow(message);
    });
  }
});
