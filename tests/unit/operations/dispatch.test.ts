import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StringEnum } from '../../../config/schema.js';
import type { Principal } from '../../../agent/auth/token-service.js';
import { Dispatcher, type DispatchOptions } from '../../../agent/operations/dispatch.js';
import {
  defineOperation,
  type AnyOperation,
  type OperationContext,
} from '../../../agent/operations/operation.js';
import { problemDocument } from '../../../agent/problems/document.js';
import { Problem } from '../../../agent/problems/problem.js';
import { PROBLEM_BASE } from '../../../agent/problems/registry.js';
import type { Services } from '../../../agent/services.js';
import { Store } from '../../../agent/store/store.js';

let dir: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-dispatch-'));
  store = Store.open(dir);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const PrintInput = Type.Object(
  {
    text: Type.String({ minLength: 1 }),
    copies: Type.Integer({ minimum: 1, maximum: 9, default: 1 }),
    quality: Type.Optional(StringEnum(['draft', 'final'])),
    options: Type.Optional(Type.Object({ duplex: Type.Boolean() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/** A test-only idempotent operation whose handler is replaced per test. */
function printOperation(
  handler: (input: Record<string, unknown>) => unknown,
  extra: { idempotent?: boolean; name?: string } = {},
): AnyOperation {
  const op = defineOperation({
    name: extra.name ?? 'test.print',
    summary: 'Test operation',
    scope: 'print',
    risk: 'print',
    input: PrintInput,
    output: Type.Unknown(),
    idempotent: extra.idempotent ?? true,
    handler: (input) => handler(input) as Promise<unknown>,
  });
  return op;
}

/** Counts calls and returns a distinct result each time, so a replay is visible. */
function countingHandler(): {
  calls: number;
  inputs: unknown[];
  fn: (input: Record<string, unknown>) => unknown;
} {
  const state = {
    calls: 0,
    inputs: [] as unknown[],
    fn: (input: Record<string, unknown>) => {
      state.calls++;
      state.inputs.push(structuredClone(input));
      return { jobId: `job-${state.calls}` };
    },
  };
  return state;
}

function context(scopes: Principal['scopes'] = ['print'], tokenId = 'tok-1'): OperationContext {
  const services = { store } as unknown as Services;
  return { services, principal: { tokenId, name: tokenId, scopes }, via: 'http' };
}

const body = (key?: string): DispatchOptions => ({ fromUrl: false, idempotencyKey: key });

/** Awaits `p`, expects a Problem and returns it. */
async function problem(p: Promise<unknown>): Promise<Problem> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(Problem);
    return err as Problem;
  }
  throw new Error('expected a Problem, got a result');
}

describe('Dispatcher: scope', () => {
  it('refuses a caller without the scope, with a forbidden problem, and does not run the handler', async () => {
    const h = countingHandler();
    const p = await problem(
      new Dispatcher().dispatch(printOperation(h.fn), { text: 'x' }, context(['read', 'face']), body()),
    );
    expect(p.code).toBe('forbidden');
    expect(problemDocument(p).status).toBe(403);
    expect(problemDocument(p)).toMatchObject({
      type: `${PROBLEM_BASE}forbidden`,
      status: 403,
      requiredScope: 'print',
    });
    expect(p.detail).toContain('test.print');
    expect(h.calls).toBe(0);
  });

  it('lets an admin token run any operation', async () => {
    const h = countingHandler();
    const r = await new Dispatcher().dispatch(
      printOperation(h.fn),
      { text: 'x' },
      context(['admin']),
      body(),
    );
    expect(r).toEqual({ output: { jobId: 'job-1' }, replayed: false });
  });

  it('checks the scope before looking at the input', async () => {
    const h = countingHandler();
    const p = await problem(
      new Dispatcher().dispatch(printOperation(h.fn), { bogus: true }, context(['read']), body()),
    );
    expect(p.code).toBe('forbidden');
  });
});

describe('Dispatcher: input validation', () => {
  async function invalid(input: Record<string, unknown>, fromUrl = false): Promise<Problem> {
    const h = countingHandler();
    const p = await problem(
      new Dispatcher().dispatch(printOperation(h.fn), input, context(), { fromUrl, idempotencyKey: 'k' }),
    );
    expect(p.code).toBe('invalid-request');
    expect(problemDocument(p).status).toBe(400);
    expect(h.calls).toBe(0);
    expect(store.idempotency.find('tok-1', 'test.print', 'k')).toBeUndefined();
    return p;
  }

  it('names an unknown field', async () => {
    const p = await invalid({ text: 'x', colour: 'red' });
    expect(problemDocument(p).field).toBe('/colour');
    expect(p.detail).toContain('colour');
    expect(problemDocument(p)).toMatchObject({ type: `${PROBLEM_BASE}invalid-request`, field: '/colour' });
  });

  it('names an unknown nested field', async () => {
    const p = await invalid({ text: 'x', options: { duplex: true, staple: true } });
    expect(problemDocument(p).field).toBe('/options/staple');
  });

  it('escapes an unknown field name as a JSON pointer', async () => {
    const p = await invalid({ text: 'x', 'a/b~c': 1 });
    expect(p.field).toEqual(['a/b~c']);
    expect(problemDocument(p).field).toBe('/a~1b~0c');
  });

  it('names a missing field', async () => {
    const p = await invalid({ copies: 2 });
    expect(problemDocument(p).field).toBe('/text');
    expect(p.detail).toContain('required');
  });

  it('names a field of the wrong type', async () => {
    const p = await invalid({ text: 'x', copies: 'two' });
    expect(problemDocument(p).field).toBe('/copies');
    expect(p.detail).toMatch(/integer/);
  });

  it('does not coerce text to numbers in a JSON body', async () => {
    const p = await invalid({ text: 'x', copies: '2' });
    expect(problemDocument(p).field).toBe('/copies');
  });

  it('names a nested field of the wrong type', async () => {
    const p = await invalid({ text: 'x', options: { duplex: 'yes' } });
    expect(problemDocument(p).field).toBe('/options/duplex');
  });

  it('lists the allowed values of an enum', async () => {
    const p = await invalid({ text: 'x', quality: 'best' });
    expect(problemDocument(p).field).toBe('/quality');
    expect(p.detail).toContain('"draft"');
    expect(p.detail).toContain('"final"');
  });

  it('names a value out of range', async () => {
    const p = await invalid({ text: 'x', copies: 10 });
    expect(problemDocument(p).field).toBe('/copies');
  });

  it('fills defaults before the handler sees the input', async () => {
    const h = countingHandler();
    await new Dispatcher().dispatch(printOperation(h.fn), { text: 'x' }, context(), body());
    expect(h.inputs).toEqual([{ text: 'x', copies: 1 }]);
  });

  it('coerces text from a URL, but not from a body, for the same operation', async () => {
    const h = countingHandler();
    const op = printOperation(h.fn);
    const dispatcher = new Dispatcher();
    await dispatcher.dispatch(op, { text: 'x', copies: '2' }, context(), { fromUrl: true });
    expect(h.inputs).toEqual([{ text: 'x', copies: 2 }]);
    const p = await problem(dispatcher.dispatch(op, { text: 'x', copies: '3' }, context(), body()));
    expect(problemDocument(p).field).toBe('/copies');
    await dispatcher.dispatch(op, { text: 'x', copies: '4' }, context(), { fromUrl: true });
    expect(h.calls).toBe(2);
  });
});

describe('Dispatcher: Idempotency-Key', () => {
  it('runs the handler once for a repeated key and body, and replays the first result', async () => {
    const h = countingHandler();
    const op = printOperation(h.fn);
    const dispatcher = new Dispatcher();
    const first = await dispatcher.dispatch(op, { text: 'x', copies: 2 }, context(), body('key-1'));
    const second = await dispatcher.dispatch(op, { text: 'x', copies: 2 }, context(), body('key-1'));
    expect(first).toEqual({ output: { jobId: 'job-1' }, replayed: false });
    expect(second).toEqual({ output: { jobId: 'job-1' }, replayed: true });
    expect(h.calls).toBe(1);
  });

  it('remembers across a restart (a new Dispatcher on the same store)', async () => {
    const h = countingHandler();
    const op = printOperation(h.fn);
    await new Dispatcher().dispatch(op, { text: 'x' }, context(), body('key-1'));
    const again = await new Dispatcher().dispatch(op, { text: 'x' }, context(), body('key-1'));
    expect(again).toEqual({ output: { jobId: 'job-1' }, replayed: true });
    expect(h.calls).toBe(1);
  });

  it('ignores the order of keys in the body', async () => {
    const h = countingHandler();
    const op = printOperation(h.fn);
    const dispatcher = new Dispatcher();
    await dispatcher.dispatch(
      op,
      { text: 'x', copies: 2, options: { duplex: true } },
      context(),
      body('key-1'),
    );
    const again = await dispatcher.dispatch(
      op,
      { options: { duplex: true }, copies: 2, text: 'x' },
      context(),
      body('key-1'),
    );
    expect(again.replayed).toBe(true);
    expect(h.calls).toBe(1);
  });

  it('treats a body that only spells out a default as the same request', async () => {
    const h = countingHandler();
    const op = printOperation(h.fn);
    const dispatcher = new Dispatcher();
    await dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const again = await dispatcher.dispatch(op, { text: 'x', copies: 1 }, context(), body('key-1'));
    expect(again.replayed).toBe(true);
  });

  it('refuses the same key with a different body (409) without running the handler', async () => {
    const h = countingHandler();
    const op = printOperation(h.fn);
    const dispatcher = new Dispatcher();
    await dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const p = await problem(dispatcher.dispatch(op, { text: 'y' }, context(), body('key-1')));
    expect(p.code).toBe('idempotency-key-reused');
    expect(problemDocument(p).status).toBe(409);
    expect(problemDocument(p).field).toBe('Idempotency-Key');
    expect(h.calls).toBe(1);
  });

  it('keeps keys apart per caller and per operation', async () => {
    const h = countingHandler();
    const dispatcher = new Dispatcher();
    const opA = printOperation(h.fn, { name: 'test.a' });
    const opB = printOperation(h.fn, { name: 'test.b' });
    await dispatcher.dispatch(opA, { text: 'x' }, context(['print'], 'tok-1'), body('k'));
    const otherCaller = await dispatcher.dispatch(opA, { text: 'x' }, context(['print'], 'tok-2'), body('k'));
    const otherOp = await dispatcher.dispatch(opB, { text: 'x' }, context(['print'], 'tok-1'), body('k'));
    expect(otherCaller.replayed).toBe(false);
    expect(otherOp.replayed).toBe(false);
    expect(h.calls).toBe(3);
  });

  it('runs the handler every time without a key, or for an operation that is not idempotent', async () => {
    const h = countingHandler();
    const dispatcher = new Dispatcher();
    const op = printOperation(h.fn);
    const plain = printOperation(h.fn, { idempotent: false, name: 'test.plain' });
    await dispatcher.dispatch(op, { text: 'x' }, context(), body());
    await dispatcher.dispatch(op, { text: 'x' }, context(), body());
    await dispatcher.dispatch(plain, { text: 'x' }, context(), body('key-1'));
    const last = await dispatcher.dispatch(plain, { text: 'x' }, context(), body('key-1'));
    expect(last.replayed).toBe(false);
    expect(h.calls).toBe(4);
    expect(store.idempotency.find('tok-1', 'test.plain', 'key-1')).toBeUndefined();
  });

  it('runs the handler once for two concurrent calls with the same key', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const op = printOperation(async () => {
      calls++;
      await gate;
      return { jobId: `job-${calls}` };
    });
    const dispatcher = new Dispatcher();
    const a = dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const b = dispatcher.dispatch(op, { copies: 1, text: 'x' }, context(), body('key-1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    release();
    const results = await Promise.all([a, b]);
    expect(calls).toBe(1);
    expect(results.map((r) => r.output)).toEqual([{ jobId: 'job-1' }, { jobId: 'job-1' }]);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
  });

  it('refuses a concurrent call with the same key and a different body once the first is done', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const op = printOperation(async () => {
      calls++;
      await gate;
      return { jobId: 'job-1' };
    });
    const dispatcher = new Dispatcher();
    const a = dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const b = problem(dispatcher.dispatch(op, { text: 'y' }, context(), body('key-1')));
    release();
    expect((await a).output).toEqual({ jobId: 'job-1' });
    expect((await b).code).toBe('idempotency-key-reused');
    expect(calls).toBe(1);
  });

  it('after a failed first attempt, runs only one of the waiting retries', async () => {
    const gates: (() => void)[] = [];
    let calls = 0;
    const op = printOperation(async () => {
      const n = ++calls;
      await new Promise<void>((resolve) => gates.push(resolve));
      if (n === 1) throw new Error('paper jam');
      return { jobId: `job-${n}` };
    });
    const dispatcher = new Dispatcher();
    const a = dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const b = dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const c = dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    const settled = Promise.allSettled([a, b, c]);
    gates[0]?.();
    // Release every attempt the dispatcher starts, until all three calls have settled.
    let done = false;
    void settled.then(() => (done = true));
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const g of gates.splice(0)) g();
    }
    const [ra, rb, rc] = await settled;
    expect(ra.status).toBe('rejected');
    expect(calls).toBe(2);
    const outputs = [rb, rc].map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as unknown)));
    expect(outputs).toEqual([
      { output: { jobId: 'job-2' }, replayed: false },
      { output: { jobId: 'job-2' }, replayed: true },
    ]);
  });

  it('does not remember a failure: a retry with the same key runs the handler again', async () => {
    let calls = 0;
    const op = printOperation(() => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('paper jam'));
      return Promise.resolve({ jobId: `job-${calls}` });
    });
    const dispatcher = new Dispatcher();
    await expect(dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'))).rejects.toThrow(
      'paper jam',
    );
    expect(store.idempotency.find('tok-1', 'test.print', 'key-1')).toBeUndefined();
    const retry = await dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    expect(retry).toEqual({ output: { jobId: 'job-2' }, replayed: false });
    const again = await dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    expect(again).toEqual({ output: { jobId: 'job-2' }, replayed: true });
    expect(calls).toBe(2);
  });

  it('does not remember a handler that throws synchronously', async () => {
    let calls = 0;
    const op = printOperation(() => {
      calls++;
      if (calls === 1) throw new Problem('device-busy');
      return { jobId: 'job-2' };
    });
    const dispatcher = new Dispatcher();
    const p = await problem(dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1')));
    expect(p.code).toBe('device-busy');
    const retry = await dispatcher.dispatch(op, { text: 'x' }, context(), body('key-1'));
    expect(retry.replayed).toBe(false);
    expect(calls).toBe(2);
  });

  it.each([
    ['a space', 'has space'],
    ['non-ASCII text', 'ключ'],
    ['a control character', 'a\tb'],
    ['an empty key', ''],
    ['more than 255 characters', 'k'.repeat(256)],
  ])('rejects a key with %s', async (_what, key) => {
    const h = countingHandler();
    const p = await problem(
      new Dispatcher().dispatch(printOperation(h.fn), { text: 'x' }, context(), body(key)),
    );
    expect(p.code).toBe('invalid-request');
    expect(problemDocument(p).field).toBe('Idempotency-Key');
    expect(h.calls).toBe(0);
  });

  it('accepts a 255-character key of visible ASCII', async () => {
    const h = countingHandler();
    const key = `${'k'.repeat(250)}!~{}:`;
    const r = await new Dispatcher().dispatch(printOperation(h.fn), { text: 'x' }, context(), body(key));
    expect(r.replayed).toBe(false);
    expect(h.calls).toBe(1);
  });
});
