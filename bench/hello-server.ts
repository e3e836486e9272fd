// The baseline: a bare fastify hello-world (`GET /` → {hello:'world'}, logger off) in its own Node process,
// so it does not share an event loop with autocannon, just as the daemon does not. The daemon's throughput
// is reported relative to this, which makes the number mean something on any machine.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { stopChild, track } from './children.js';

export interface HelloServer {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Plain ESM run with `node --input-type=module -e`: no TypeScript loader in the measured process. */
function serverSource(fastifyUrl: string): string {
  return `
const { default: Fastify } = await import(${JSON.stringify(fastifyUrl)});
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ port: app.server.address().port }) + '\\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;
}

export async function startHelloServer(timeoutMs = 15_000): Promise<HelloServer> {
  // The same fastify the daemon is built against, resolved from this project.
  const fastifyUrl = pathToFileURL(createRequire(import.meta.url).resolve('fastify')).href;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', serverSource(fastifyUrl)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc, 'fastify hello-world');
  let out = '';
  let err = '';
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hello server did not start: ${err}`)), timeoutMs);
      proc.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hello server exited with ${code}: ${err}`));
      });
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      });
    });
    return { url: `http://127.0.0.1:${port}`, pid: proc.pid, stop: () => stopChild(proc) };
  } catch (e) {
    await stopChild(proc);
    throw e;
  }
}
