import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { printComposeSupergraph } from '../../deploy/compose/supergraph.js';
import { environmentNames } from '../../src/config/variables.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * The Dockerfile, compose file and Kubernetes manifests, checked without a Docker engine or a
 * cluster (none runs here): every file they name exists, every variable they set is in the
 * configuration table, every probe path answers on a real gateway, the manifests are valid against
 * the Kubernetes schemas (kubernetes-models), and the timings nest (drain < grace period).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const text = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const known = new Set(environmentNames());

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const answers = async (path: string) => (await stack.gateway.fetch(`http://gateway${path}`)).status;

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(dockerfile: string): Array<{ op: string; args: string }> {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  const steps = instructions(text('Dockerfile'));
  const of = (op: string) => steps.filter((step) => step.op === op);
  const ignored = text('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

  it('builds from a pinned Node LTS slim base', () => {
    const bases = of('FROM').map((step) => step.args.split(' ')[0]);
    expect(bases.length).toBe(2);
    for (const base of bases) expect(base).toMatch(/^node:(22|24)\.\d+\.\d+-bookworm-slim$/);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = of('COPY')
      .filter((step) => !step.args.startsWith('--from'))
      .flatMap((step) => step.args.split(' ').slice(0, -1));
    expect(sources).toContain('src');
    for (const source of sources) {
      expect(existsSync(`${root}${source}`), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
  });

  it('runs the file the build emits, as node itself, as a non-root user', () => {
    expect(of('CMD').at(-1)?.args).toBe('["node", "dist/main.js"]');
    const build = JSON.parse(text('tsconfig.build.json')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: 'src' });
    expect(existsSync(`${root}src/main.ts`)).toBe(true);
    expect(JSON.parse(text('package.json')).scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(of('RUN').some((step) => step.args.includes('npm ci --omit=dev'))).toBe(true);
    expect(of('USER').at(-1)?.args).toBe('node');
    expect(of('STOPSIGNAL').at(-1)?.args).toBe('SIGTERM');
  });

  it('sets only variables of the configuration table, and delays and drains inside docker stop’s 10 s', () => {
    const env = Object.fromEntries(
      of('ENV')
        .flatMap((step) => step.args.split(/\s+/))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    // NODE_OPTIONS is Node's own: V8's young generation capped (bench/README.md, memory).
    for (const name of Object.keys(env)) expect(known.has(name) || name === 'NODE_OPTIONS', name).toBe(true);
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      NODE_ENV: 'production',
      NODE_OPTIONS: '--max-semi-space-size=8',
    });
    expect(Number(env.SHUTDOWN_DELAY_MS) + Number(env.SHUTDOWN_DRAIN_MS)).toBeLessThan(10_000);
    expect(Number(env.SHUTDOWN_DELAY_MS)).toBeGreaterThan(0);
  });

  it('health-checks a path the gateway answers', async () => {
    const check = of('HEALTHCHECK').at(-1)?.args ?? '';
    const path = /\/health\b/.exec(check)?.[0];
    expect(path).toBe('/health');
    expect(await answers(String(path))).toBe(200);
  });
});

describe('compose.yaml', () => {
  const compose = parse(text('deploy/compose/compose.yaml')) as {
    services: Record<string, Record<string, unknown>>;
    secrets: Record<string, { environment: string }>;
  };
  const gateway = compose.services.gateway as {
    environment: Record<string, string>;
    deploy: { replicas: number };
    stop_grace_period: string;
    secrets: string[];
  };

  it('runs two replicas, Redis and a Hive Gateway router', () => {
    expect(gateway.deploy.replicas).toBe(2);
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'redis', 'router']);
    expect(String(compose.services.router?.image)).toMatch(/^ghcr\.io\/graphql-hive\/gateway:\d+\.\d+\.\d+$/);
  });

  it('sets only variables of the configuration table, secrets as files it mounts', () => {
    for (const name of Object.keys(gateway.environment)) expect(known.has(name), name).toBe(true);
    for (const [name, path] of Object.entries(gateway.environment).filter(([name]) =>
      name.endsWith('_FILE'),
    )) {
      const secret = path.replace('/run/secrets/', '');
      expect(gateway.secrets, name).toContain(secret);
      expect(known.has(compose.secrets[secret]?.environment ?? ''), secret).toBe(true);
    }
  });

  it('gives the delay and the drain time to finish before docker kills the replica', () => {
    const delayMs = Number(/SHUTDOWN_DELAY_MS=(\d+)/.exec(text('Dockerfile'))?.[1]);
    const drainMs = Number(/SHUTDOWN_DRAIN_MS=(\d+)/.exec(text('Dockerfile'))?.[1]);
    expect(delayMs).toBeGreaterThan(0);
    expect(Number.parseInt(gateway.stop_grace_period, 10) * 1000).toBeGreaterThan(delayMs + drainMs);
  });

  it('mounts router files that exist, and a supergraph composed from this subgraph', () => {
    for (const volume of (compose.services.router?.volumes ?? []) as string[]) {
      const file = volume.split(':')[0] ?? '';
      expect(existsSync(`${root}deploy/compose/${file}`), file).toBe(true);
    }
    expect(text('deploy/compose/supergraph.graphql')).toBe(printComposeSupergraph());
  });
});

describe('Kubernetes manifests (deploy/kubernetes/)', () => {
  const models = { Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, Secret } as const;
  type Kind = keyof typeof models;
  const manifests = ['deployment', 'service', 'pdb', 'hpa', 'secret.example'].flatMap((name) =>
    parseAllDocuments(text(`deploy/kubernetes/${name}.yaml`)).map((doc) => doc.toJSON() as { kind: Kind }),
  );
  const byKind = <K extends Kind>(kind: K) =>
    manifests.find((m) => m.kind === kind) as unknown as ConstructorParameters<(typeof models)[K]>[0] &
      object;

  it('are valid against the Kubernetes schemas', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(Object.keys(models).sort());
    for (const manifest of manifests) {
      const Model = models[manifest.kind] as unknown as new (data: unknown) => { validate(): void };
      expect(() => new Model(manifest).validate(), manifest.kind).not.toThrow();
    }
  });

  it('catch a broken manifest (the validation can fail)', () => {
    const broken = structuredClone(byKind('Deployment')) as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer/);
  });

  const deployment = byKind('Deployment');
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers[0];
  const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? '']));

  it('run at least two replicas and set only variables of the configuration table', () => {
    expect(deployment.spec?.replicas).toBeGreaterThanOrEqual(2);
    for (const name of Object.keys(env)) expect(known.has(name), name).toBe(true);
    expect(Number(env.PORT)).toBe(container?.ports?.[0]?.containerPort);
  });

  it('announce the metrics port to Prometheus, the one the gateway serves metrics on', () => {
    const annotations = deployment.spec?.template.metadata?.annotations ?? {};
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    expect(annotations['prometheus.io/port']).toBe(env.METRICS_PORT);
    expect(container?.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(Number(env.METRICS_PORT));
    expect(byKind('Service').spec?.ports?.map((p) => p.targetPort)).toEqual(['http']);
  });

  it('probe paths the gateway answers: liveness /health, readiness /ready', async () => {
    expect(container?.livenessProbe?.httpGet?.path).toBe('/health');
    expect(container?.readinessProbe?.httpGet?.path).toBe('/ready');
    for (const path of [container?.livenessProbe?.httpGet?.path, container?.readinessProbe?.httpGet?.path]) {
      expect(await answers(String(path))).toBe(200);
    }
  });

  it('mount the secrets the *_FILE variables name, from the Secret the example shows', () => {
    const mount = container?.volumeMounts?.find((m) => m.name === 'secrets')?.mountPath;
    const secret = byKind('Secret');
    const files = Object.entries(env).filter(([name]) => name.endsWith('_FILE'));
    expect(files.map(([name]) => name).sort()).toEqual([
      'CIRCLE_APP_TOKEN_FILE',
      'GATEWAY_API_KEYS_FILE',
      'REDIS_URL_FILE',
    ]);
    for (const [, path] of files) {
      expect(path.startsWith(`${mount}/`)).toBe(true);
      expect(Object.keys(secret.stringData ?? {})).toContain(path.slice(String(mount).length + 1));
    }
    expect(pod?.volumes?.find((v) => v.name === 'secrets')?.secret?.secretName).toBe(secret.metadata?.name);
  });

  it('let the delay and the drain finish: SHUTDOWN_DELAY_MS + SHUTDOWN_DRAIN_MS < terminationGracePeriodSeconds', () => {
    // The delay does what a preStop sleep did, and /ready says so at once: no preStop needed.
    expect(container?.lifecycle?.preStop).toBeUndefined();
    const delayMs = Number(env.SHUTDOWN_DELAY_MS);
    const drainMs = Number(env.SHUTDOWN_DRAIN_MS);
    expect(delayMs).toBeGreaterThan(0);
    expect(delayMs + drainMs).toBeLessThan((pod?.terminationGracePeriodSeconds ?? 30) * 1000);
  });

  it('wire the Service, PDB and HPA to the Deployment, within Circle’s budget even with Redis down', () => {
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    const service = byKind('Service');
    expect(service.spec?.selector).toEqual(labels);
    expect(service.spec?.ports?.[0]?.targetPort).toBe(container?.ports?.[0]?.name);
    expect(byKind('PodDisruptionBudget').spec?.selector?.matchLabels).toEqual(labels);
    const hpa = byKind('HorizontalPodAutoscaler');
    expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata?.name });
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
    // One shared budget under Circle's 2000; during an outage each replica keeps 1/GATEWAY_REPLICAS.
    expect(env.REDIS_URL_FILE).toMatch(/^\/var\/run\/secrets\/circle-auth-gateway\//);
    expect(Number(env.CIRCLE_REQUEST_BUDGET)).toBeLessThanOrEqual(2000);
    expect(Number(env.GATEWAY_REPLICAS)).toBeGreaterThanOrEqual(
      hpa.spec?.maxReplicas ?? Number.POSITIVE_INFINITY,
    );
  });
});
