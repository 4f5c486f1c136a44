/**
 * Paired rounds: two gateways loaded at the same time, each by its own autocannon, with each one's
 * CPU read from /proc. Both see the same moment of a shared, noisy machine, so the ratio of their
 * CPU per operation moves by a few percent where two rounds taken one after the other moved by
 * ±25 % here. Used by bench:observability (same build, observability off and on) and bench:ab
 * (two builds).
 */
import autocannon from 'autocannon';
import { cpuMs, median, memberRotation } from './launch.js';

export interface Target {
  url: string;
  pid: number;
  headers: Record<string, string>;
  body: string;
  /** Makes each request's body (never-seen documents); else `body` every time. */
  bodies?: () => string;
}

export interface PairedRound {
  a: { rps: number; cpuPer1000: number; p99: number };
  b: { rps: number; cpuPer1000: number; p99: number };
  /** b's CPU per operation over a's. */
  ratio: number;
}

async function load(target: Target, seconds: number, connections: number, rate?: number) {
  const before = cpuMs(target.pid);
  const forNextMember = memberRotation();
  const result = await autocannon({
    ...(rate ? { overallRate: rate } : {}),
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body,
    connections,
    duration: seconds,
    // Each request for the next of 64 members, in a rotation of this target's own (launch.ts), so
    // that no two mints in flight coalesce.
    requests: [
      {
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          body: forNextMember(target.bodies ? target.bodies() : target.body),
        }),
      },
    ],
  });
  const used = cpuMs(target.pid) - before;
  if (result.non2xx + result.errors + result.timeouts > 0) throw new Error(`errors against ${target.url}`);
  return {
    rps: result.requests.total / seconds,
    cpuPer1000: (used / result.requests.total) * 1000,
    p99: result.latency.p99,
  };
}

/**
 * A 2 s warm-up of both, then `rounds` paired rounds of `seconds`, `connections` per target; with
 * `rate`, each target gets that many requests a second (open loop) rather than as many as it answers.
 */
export async function pairedRounds(
  a: Target,
  b: Target,
  rounds: number,
  seconds: number,
  connections = 16,
  rate?: number,
): Promise<PairedRound[]> {
  await Promise.all([load(a, 2, connections, rate), load(b, 2, connections, rate)]);
  const results: PairedRound[] = [];
  for (let i = 0; i < rounds; i++) {
    const [ra, rb] = await Promise.all([
      load(a, seconds, connections, rate),
      load(b, seconds, connections, rate),
    ]);
    results.push({ a: ra, b: rb, ratio: rb.cpuPer1000 / ra.cpuPer1000 });
  }
  return results;
}

/** The rounds as a Markdown table, then the median ratio and its range. */
export function report(rounds: PairedRound[], names: [string, string], aim?: string): string {
  const lines = [
    `| round | ${names[0]}: req/s, CPU ms per 1000 operations, p99 ms | ${names[1]}: req/s, CPU ms per 1000, p99 ms | ${names[1]} / ${names[0]}, CPU |`,
    '|---|---|---|---|',
    ...rounds.map(
      (r, i) =>
        `| ${i + 1} | ${Math.round(r.a.rps)}, ${Math.round(r.a.cpuPer1000)}, ${r.a.p99} | ${Math.round(r.b.rps)}, ${Math.round(r.b.cpuPer1000)}, ${r.b.p99} | ${r.ratio.toFixed(3)} |`,
    ),
  ];
  const ratios = rounds.map((r) => r.ratio);
  lines.push(
    `CPU per operation, ${names[1]} / ${names[0]}: median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}${aim ? ` (aim: ${aim})` : ''}`,
  );
  return lines.join('\n');
}
