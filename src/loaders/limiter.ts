/**
 * Runs at most `concurrency` calls at once; the others wait their turn, in order. A finished call
 * hands its slot straight to the next, so a call arriving meanwhile cannot take it. What p-limit did,
 * without its queue and promises per call: most requests make one call (bench/README.md).
 */
export function limiter(concurrency: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return async <T>(call: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      release();
    }
  };
}
