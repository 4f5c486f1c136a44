import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { trackForDrain } from '../../src/drain.js';

// A real node:http server whose handler answers after `?ms=` milliseconds, and real keep-alive
// clients: what the drain does is seen on the sockets.
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

async function serve() {
  const server = createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('done'), ms);
  });
  servers.push(server);
  const drain = trackForDrain(server, { lingerMs: 200, sweepMs: 20 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, drain, port };
}

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  socket: Socket;
}

function get(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          body,
          socket: req.socket as Socket,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const closed = (socket: Socket) =>
  socket.destroyed
    ? Promise.resolve()
    : new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('drain on shutdown', () => {
  it('answers the request in flight with Connection: close, refuses new connections, and resolves true', async () => {
    const { server, drain, port } = await serve();
    const inFlight = get(port, '/?ms=500', new Agent({ keepAlive: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const draining = drain.drain(5000);
    expect(drain.draining).toBe(true);
    await expect(get(port, '/', new Agent())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await inFlight).toMatchObject({ status: 200, body: 'done', connection: 'close' });
    await expect(draining).resolves.toBe(true);
    expect(server.listening).toBe(false);
  });

  it('answers a request written on an idle keep-alive connection just after the drain began, then closes it', async () => {
    const { drain, port } = await serve();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await get(port, '/', agent);
    expect(first.connection).toBe('keep-alive');
    const draining = drain.drain(5000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const late = await get(port, '/?ms=20', agent);
    expect(late.socket).toBe(first.socket); // the same, idle, connection: answered, not reset
    expect(late).toMatchObject({ status: 200, body: 'done', connection: 'close' });
    await closed(late.socket);
    await expect(draining).resolves.toBe(true);
    agent.destroy();
  });

  it('closes idle keep-alive connections after the linger, while a busy one is still answered', async () => {
    const { drain, port } = await serve();
    const agent = new Agent({ keepAlive: true });
    const idle = await get(port, '/', agent);
    const busy = get(port, '/?ms=1500', new Agent({ keepAlive: true }));
    let answered = false;
    void busy.then(() => {
      answered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const draining = drain.drain(5000);
    await closed(idle.socket);
    expect(answered).toBe(false);
    expect(await busy).toMatchObject({ status: 200, connection: 'close' });
    await expect(draining).resolves.toBe(true);
    agent.destroy();
  });

  it('closes the connections still busy at the deadline and resolves false', async () => {
    const { drain, port } = await serve();
    const stuck = get(port, '/?ms=5000', new Agent({ keepAlive: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(drain.drain(100)).resolves.toBe(false);
    await expect(stuck).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('marks Connection: close on a response its handler sends synchronously during the drain', async () => {
    // Regression: the drain's listener ran after the handler and set a header on a sent response,
    // an uncaught exception that ended the process mid-drain (found by npm run soak).
    const server = createServer((_req, res) => res.end('sync'));
    servers.push(server);
    const drain = trackForDrain(server, { lingerMs: 300, sweepMs: 20 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(port, '/', agent);
    const draining = drain.drain(2000);
    expect(await get(port, '/', agent)).toMatchObject({ status: 200, body: 'sync', connection: 'close' });
    await expect(draining).resolves.toBe(true);
    agent.destroy();
  });

  it('returns the same drain to a second caller (a repeated signal)', async () => {
    const { drain } = await serve();
    const first = drain.drain(1000);
    expect(drain.drain(1)).toBe(first);
    await expect(first).resolves.toBe(true);
  });
});
