/**
 * `npm run sandbox`: the Circle Headless Auth simulator alone, for pointing a gateway, a benchmark or
 * curl at it. Honours SANDBOX_HOST, SANDBOX_PORT, SANDBOX_APP_TOKEN and SANDBOX_MEMBERS_FILE.
 */
import { loadSandboxConfig } from '../config/load.js';
import { describeSandbox } from './describe.js';
import { startSandbox } from './server.js';

const config = loadSandboxConfig(process.env);
const sandbox = await startSandbox(config);
process.stdout.write(`${describeSandbox(sandbox)}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
