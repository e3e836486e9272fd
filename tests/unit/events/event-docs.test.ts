// The OpenAPI document describes what GET /v1/events sends: one schema per event type, and what the stream
// writes for an event of that type (envelope and payload, with `seq` null for a live-only one) fits it.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_CATALOG, EVENT_TYPES } from '../../../agent/events/catalog.js';
import { EventLog, type AgentEvent } from '../../../agent/events/event-log.js';
import { formatEvent } from '../../../agent/http/event-stream.js';
import { buildOpenApi } from '../../../agent/http/openapi.js';
import { CATALOG } from '../../../agent/operations/catalog.js';
import { Store } from '../../../agent/store/store.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';
import { deviceReady } from '../../helpers/events.js';

type Doc = {
  components: { schemas: Record<string, Record<string, unknown>> };
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};
const doc = buildOpenApi(CATALOG, '0.0.0') as unknown as Doc;

let dir: string;
let store: Store;
let events: EventLog;
beforeEach(() => {
  dir = tempDir();
  store = Store.open(dir);
  events = new EventLog(store, 1000);
});
afterEach(() => {
  store.close();
  removeDir(dir);
});

/** The frame's `id:` line and its data, as an EventSource would see them. */
function frame(e: AgentEvent): { id: string | undefined; data: unknown } {
  const text = formatEvent(e);
  const id = /^id: (.*)$/m.exec(text)?.[1];
  const data = /^data: (.*)$/m.exec(text)?.[1] ?? 'null';
  return { id, data: JSON.parse(data) as unknown };
}

describe('GET /v1/events in the OpenAPI document', () => {
  it('has a schema per event type with its scope and kept flag, all offered by the stream', () => {
    const stream = doc.paths['/v1/events']?.get?.responses['200']?.content?.['text/event-stream'] as {
      schema: { oneOf: { $ref: string }[] };
    };
    expect(stream.schema.oneOf.map((r) => r.$ref)).toEqual(
      EVENT_TYPES.map((t) => `#/components/schemas/event.${t}`),
    );
    for (const type of EVENT_TYPES) {
      expect(doc.components.schemas[`event.${type}`]).toMatchObject({
        'x-required-scope': EVENT_CATALOG[type].scope,
        'x-kept': EVENT_CATALOG[type].kept,
      });
    }
  });

  it('matches what the stream sends for a kept and for a live-only event', () => {
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    const kept = frame(events.publish('device.state', deviceReady()));
    expect(kept.id).toBe('1');
    expect(ajv.validate(doc.components.schemas['event.device.state']!, kept.data)).toBe(true);

    const live = frame(
      events.publish('face.capture.hint', {
        capture: 'c1',
        camera: 'camera-1',
        missing: 'too-far',
        hint: 'h',
      }),
    );
    expect(live.id).toBeUndefined();
    expect(live.data).toMatchObject({ seq: null, type: 'face.capture.hint', hint: 'h' });
    expect(ajv.validate(doc.components.schemas['event.face.capture.hint']!, live.data)).toBe(true);
    // The other type's schema refuses it: `type` is fixed per schema.
    expect(ajv.validate(doc.components.schemas['event.device.state']!, live.data)).toBe(false);
  });
});

describe('event names', () => {
  // One rule for every job kind: `<kind>.job` on every transition with the state in the payload, so no
  // per-state event (a second `printed` carrying what the first lacked) and no job fields on another type.
  const properties = (type: (typeof EVENT_TYPES)[number]): Record<string, { const?: unknown }> =>
    (EVENT_CATALOG[type].payload as unknown as { properties: Record<string, { const?: unknown }> })
      .properties;

  it('are <kind>.job for every job event, whose payload names that kind, the state and the one before', () => {
    for (const type of EVENT_TYPES) {
      const props = properties(type);
      if (!('job' in props)) continue;
      expect(type).toMatch(/^[a-z]+\.job$/);
      expect(props.kind?.const, type).toBe(type.replace(/\.job$/, ''));
      expect(Object.keys(props), type).toEqual(
        expect.arrayContaining(['job', 'device', 'state', 'previous']),
      );
    }
  });

  it("never name a job state: a state change is the job event's payload, not an event of its own", () => {
    const states = new Set(
      EVENT_TYPES.filter((t) => t.endsWith('.job')).flatMap(
        (t) => (properties(t).state as unknown as { enum: string[] }).enum,
      ),
    );
    expect(states).toContain('printed');
    // Other families have states of their own (a pairing can expire); the rule is about jobs.
    const jobFamilies = new Set([
      'job',
      ...EVENT_TYPES.filter((t) => t.endsWith('.job')).map((t) => t.split('.')[0]),
    ]);
    const stateNamed = EVENT_TYPES.filter(
      (t) => jobFamilies.has(t.split('.')[0]) && t.split('.').some((part) => states.has(part)),
    );
    expect(stateNamed).toEqual([]);
  });
});
