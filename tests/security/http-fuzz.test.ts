// Hostile input over HTTP: every operation in the catalog, driven with bodies made from its own schema
// (valid-shaped, mutated, random), against the daemon spawned as a process. Nothing may crash it, answer
// 500, or answer an error that is not a problem document. The seed is printed; FUZZ_SEED repeats a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../agent/operations/catalog.js';
import type { AnyOperation } from '../../agent/operations/operation.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { removeDir, startDaemon, tempDir, type Daemon } from '../helpers/daemon.js';
import { openFds, rssKb } from '../helpers/proc-stats.js';
import { rawRequest } from '../helpers/raw-http.js';
import { deepNesting, hostileSample, HOSTILE_STRINGS, validSample, type Json } from './schema-samples.js';
import { fuzzReport, recordStatus } from './report.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const CASES_PER_OPERATION = Number(process.env.FUZZ_CASES ?? 100);
/** 503s that report a state the caller can act on (a device in a fault the fuzz itself set, a full queue). */
const STATE_PROBLEMS = new Set(['device-unavailable', 'device-busy', 'face-busy']);

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  daemon = await startDaemon({ storageDir: dir });
  console.log(`http fuzz seed ${SEED} (FUZZ_SEED=${SEED} repeats it)`);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(dir);
});

function fillPath(path: string, input: Json, r: () => number): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const v = input !== null && typeof input === 'object' && !Array.isArray(input) ? input[name] : undefined;
    const raw =
      r() < 0.3
        ? (HOSTILE_STRINGS[Math.floor(r() * HOSTILE_STRINGS.length)] ?? '')
        : typeof v === 'string'
          ? v
          : JSON.stringify(v ?? 'x');
    if (r() < 0.05) return '%ff%fe%c0%80'; // not UTF-8 once decoded
    return percentEncode(raw.slice(0, 2000)) || 'x';
  });
}

/** Every byte of the UTF-8 form percent-encoded (encodeURIComponent throws on a lone surrogate). */
function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

function queryOf(input: Json): string {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(input)) q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return `?${q.toString()}`;
}

/** One request's body: JSON of a sample, or a raw hostile encoding. */
function bodyFor(op: AnyOperation, i: number, r: () => number): { body: string | Buffer; input: Json } {
  const schema = op.input as unknown as Record<string, unknown>;
  if (i % 4 === 0) {
    const input = validSample(schema, r);
    return { body: JSON.stringify(input), input };
  }
  if (i % 10 === 1) return { body: deepNesting(5_000 + Math.floor(r() * 50_000)), input: null };
  if (i % 10 === 3)
    return { body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0x22, 0x3a, 0x31, 0x7d]), input: null };
  if (i % 10 === 5) return { body: '{"a":' + '1'.repeat(100_000) + '}', input: null };
  if (i % 10 === 7) return { body: '{'.repeat(3) + '"', input: null };
  const input = hostileSample(schema, r);
  return { body: JSON.stringify(input), input };
}

describe('HTTP fuzz over the operations catalog', () => {
  const ops = CATALOG.filter((op) => op.http !== undefined);

  it('answers every hostile request with a problem, never a 500 or a crash', async () => {
    const r = seededRandom(SEED);
    const failures: string[] = [];
    const pid = daemon.proc.pid!;
    const before = { rss: rssKb(pid), fds: openFds(pid) };
    for (const op of ops) {
      const http = op.http!;
      for (let i = 0; i < CASES_PER_OPERATION; i++) {
        const { body, input } = bodyFor(op, i, r);
        const withBody = http.method !== 'GET' && http.method !== 'DELETE';
        const url = daemon.url + fillPath(http.path, input, r) + (withBody ? '' : queryOf(input));
        const res = await rawRequest(url, {
          method: http.method,
          headers: {
            authorization: `Bearer ${daemon.adminToken}`,
            ...(withBody ? { 'content-type': 'application/json' } : {}),
          },
          ...(withBody ? { body } : {}),
        }).catch((err: Error) => {
          throw new Error(
            `${op.name} #${i} ${http.method} ${url.slice(0, 120)}… (${url.length} chars): ${err.message}`,
          );
        });
        recordStatus('http', op.name, res.status);
        const type = String(res.headers['content-type'] ?? '');
        let problem = '';
        if (res.status >= 400) {
          if (!type.startsWith('application/problem+json')) {
            failures.push(`${op.name} #${i}: ${res.status} with ${type || 'no content type'}`);
            continue;
          }
          problem = String((JSON.parse(res.body) as { type?: string }).type ?? '').replace(
            'urn:boxagent:problem:',
            '',
          );
        }
        if (res.status >= 500 && !(res.status === 503 && STATE_PROBLEMS.has(problem))) {
          failures.push(`${op.name} #${i}: ${res.status} ${problem} ${res.body.slice(0, 200)}`);
        }
      }
      expect(daemon.proc.exitCode, `daemon alive after ${op.name}`).toBeNull();
    }
    const after = { rss: rssKb(pid), fds: openFds(pid) };
    console.log(
      `${fuzzReport()}\ndaemon RSS ${Math.round(before.rss / 1024)} → ${Math.round(after.rss / 1024)} MB, ` +
        `open fds ${before.fds} → ${after.fds}`,
    );
    expect(failures).toEqual([]);
    // Bounded: hostile bodies are refused before they are held, and no connection is left open.
    expect(after.rss - before.rss).toBeLessThan(256 * 1024);
    expect(after.fds - before.fds).toBeLessThan(10);
    const health = await daemon.fetch('/v1/health');
    expect(health.status).toBe(200);
  }, 600_000);
});
