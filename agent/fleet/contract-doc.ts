// docs/mqtt.md, generated: the fleet's MQTT contract (topics, payloads, problem types), every event type of
// the event catalog, and one section per operation of the catalog, with the same input/output schemas and
// scopes as the HTTP API.
import type { AnyOperation } from '../operations/operation.js';
import { PROBLEM_BASE, PROBLEMS } from '../problems/registry.js';
import { FLEET_SECTIONS } from './config-sync.js';
import { EVENT_CATALOG, JobEventBase } from '../events/catalog.js';
import { FLEET_SCHEMA, fleetTopics } from './contract.js';
import { PROTECTED_EVENT_PREFIXES } from './event-pump.js';

const json = (v: unknown): string => '```json\n' + JSON.stringify(v, null, 2) + '\n```';

/** The event types: one section each, from agent/events/catalog.ts (the same list `GET /v1/events` serves). */
function renderEventCatalog(): string[] {
  const out = [
    '### Event types',
    '',
    'Declared once in `agent/events/catalog.ts`. _Kept_ events are stored in the event log and sent here;',
    '_live-only_ ones reach only the SSE clients connected at the time (`GET /v1/events`) and never this topic.',
    'The scope is what a local API token needs to receive the type over SSE; the fleet gets every kept type.',
    '',
    'Job events are named `<kind>.job` and share this payload (plus the fields of their kind); one is published',
    'on every state change, `previous` being `null` for a new job:',
    '',
    json(JobEventBase),
    '',
    '| type | scope | kept | description |',
    '| --- | --- | --- | --- |',
    ...Object.entries(EVENT_CATALOG).map(
      ([type, d]) => `| \`${type}\` | \`${d.scope}\` | ${d.kept ? 'kept' : 'live-only'} | ${d.description} |`,
    ),
    '',
  ];
  for (const [type, d] of Object.entries(EVENT_CATALOG)) {
    out.push(`#### \`${type}\``, '', d.description, '', json(d.payload), '');
  }
  return out;
}

export function renderMqttContract(catalog: readonly AnyOperation[]): string {
  const t = fleetTopics('boxagent/v1', '<boxId>');
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines);
  p(
    '# boxagent MQTT contract',
    '',
    '<!-- Generated from agent/fleet/contract.ts and the operations catalog by `npm run docs`; do not edit. -->',
    '',
    `Prefix \`boxagent/v1/<boxId>\` (config \`mqtt.prefix\`). Payloads are JSON with \`"schema": ${FLEET_SCHEMA}\`.`,
    'MQTT 5 by default (`mqtt.protocolVersion: 4` for 3.1.1 brokers). The box subscribes only under its own prefix.',
    '',
    '## Topics',
    '',
    '| topic | direction | QoS / retain | content |',
    '| --- | --- | --- | --- |',
    `| \`${t.status}\` | box → fleet | 1, retained | online status on every connect; the Last Will (and a graceful stop) sets it offline with the same \`sessionId\` |`,
    `| \`${t.telemetry}\` | box → fleet | 0 | health every \`mqtt.telemetryIntervalSeconds\` |`,
    `| \`${t.events}\` | box → fleet | 1 | the durable outbox, in \`seq\` order |`,
    `| \`${t.root}/rpc/<operation>\` | fleet → box | 1 | a request for an operation below |`,
    `| \`${t.configDesired}\` | fleet → box | 1, retained | the full, versioned document of the fleet-owned sections |`,
    `| \`${t.configReported}\` | box → fleet | 1, retained | the result of the last desired document |`,
    '',
    '## Status',
    '',
    'Online (retained, on every connect; `sessionId` is new per connection):',
    '',
    json({
      schema: FLEET_SCHEMA,
      online: true,
      box: 'box-7',
      site: 'Village hall',
      version: '0.1.0',
      startedAt: '2026-01-01T08:00:00.000Z',
      sessionId: '5f0c…',
      connectedAt: '2026-01-01T08:00:01.000Z',
      devices: { total: 4, ready: 3, notReady: { 'seal-1': 'error' } },
    }),
    '',
    'Offline: `reason` is `lost` when the broker published the Last Will, `stopped` after a graceful stop.',
    'A will whose `sessionId` is not the one of the latest online status is stale and can be ignored.',
    '',
    json({ schema: FLEET_SCHEMA, online: false, box: 'box-7', sessionId: '5f0c…', reason: 'lost' }),
    '',
    '## Events',
    '',
    'Every kept event is written to the outbox in SQLite in the same transaction as the change that caused it and',
    'published QoS 1 in `seq` order; a row counts as sent only after its PUBACK. QoS 1 is at-least-once: after',
    'a broker restart a message that was in flight may arrive again; de-duplicate on `id`. `seq` is per box and',
    'strictly increasing; a gap means events were dropped from a full outbox (see telemetry `outbox`).',
    `Types starting with ${PROTECTED_EVENT_PREFIXES.map((x) => `\`${x}\``).join(', ')} are never dropped.`,
    '',
    json({
      schema: FLEET_SCHEMA,
      id: '0b6f…',
      seq: 1042,
      type: 'print.job',
      createdAt: '2026-01-01T08:03:00.000Z',
      payload: { job: '…', kind: 'print', device: 'printer-1', state: 'done', previous: 'sending' },
    }),
    '',
    ...renderEventCatalog(),
    '## Telemetry',
    '',
    'Fields: `box`, `at`, `uptimeSeconds`, `cpu {loadAverage, cores, processPercent}`,',
    '`memory {totalBytes, freeBytes, processRssBytes}`, `disk {path, freeBytes, totalBytes}` (the state dir),',
    '`temperatureC` (hottest readable thermal zone, or null), `devices` (id → state), `jobs` (kind → state → count),',
    '`outbox {depth, oldestUnsentAgeSeconds, droppedSinceStart, warning?}`, `warnings` (strings).',
    '',
    '## RPC',
    '',
    `Publish to \`${t.root}/rpc/<operation>\`:`,
    '',
    '- MQTT 5: the payload is the operation input (a JSON object); set `responseTopic` and `correlationData`.',
    '  `messageExpiryInterval` is honoured: a request that expired before it could run is answered',
    '  `request-expired`, and the reply carries the remaining expiry. User property `idempotencyKey` works like',
    '  the HTTP `Idempotency-Key` header.',
    '- MQTT 3.1.1: an envelope `{"id", "replyTo", "params", "expiresAt"?, "idempotencyKey"?}`; the reply echoes',
    '  `id`.',
    '',
    'Replies go to the response topic (QoS 1):',
    '',
    json({ schema: FLEET_SCHEMA, ok: true, result: {} }),
    '',
    'An operation whose HTTP answer is a file (`print.preview`, `camera.snapshot`) replies with',
    '`"result": {"contentType": "image/png", "base64": "…"}`.',
    '',
    json({
      schema: FLEET_SCHEMA,
      ok: false,
      error: {
        type: `${PROBLEM_BASE}invalid-request`,
        title: PROBLEMS['invalid-request'].title,
        status: 400,
        detail: '"id" is required',
        field: '/id',
      },
    }),
    '',
    'Requests run with the scopes of the fleet role `mqtt.rpcRole` (roles map to scopes in `mqtt.roles`).',
    'A request that cannot be parsed and names no reply address is only logged.',
    '',
    '### Signed requests',
    '',
    'Operations listed in `mqtt.signing.required` (default `seal.*`, `persons.delete`, `config.apply`) run only',
    'when signed with an Ed25519 key of `mqtt.signing.keys`; a signed request runs with that key’s role. The',
    'signature covers these lines joined with `\\n`: `boxagent-rpc-v1`, the operation, the box id, the timestamp',
    '(unix seconds), the nonce, and the hex SHA-256 of the params as canonical JSON (object keys sorted, no',
    'spaces). The timestamp must be within `mqtt.signing.replayWindowSeconds` and the nonce unused. MQTT 5: user',
    'properties `keyId`, `timestamp`, `nonce`, `signature` (base64); envelope: `"signature": {"keyId",',
    '"timestamp", "nonce", "value"}`. Failures answer `bad-signature`.',
    '',
    '### Problem types',
    '',
    '| type | status | title |',
    '| --- | --- | --- |',
    ...Object.entries(PROBLEMS).map(
      ([code, v]) => `| \`${PROBLEM_BASE}${code}\` | ${v.status} | ${v.title} |`,
    ),
    '',
    '## Desired and reported config',
    '',
    `The fleet owns the sections ${FLEET_SECTIONS.map((x) => `\`${x}\``).join(', ')} (same schema as the config file);`,
    'box identity, HTTP, storage and the broker settings are installer-owned and never taken from the fleet.',
    'On every connect the box reads the retained desired document; a version newer than the one in force is',
    'validated, only the changed sections are applied (unchanged devices keep running), the changed devices must',
    'become ready within `mqtt.configHealthTimeoutSeconds`, else the change is rolled back. The applied',
    'document is kept in the state dir and overrides the config file at the next start.',
    '',
    json({ version: 7, config: { supervision: { probeIntervalMs: 5000 }, devices: [] } }),
    '',
    'Reported (`status`: `applied`, `rejected` or `rolled_back`; `inForce`: the version now in force, 0 for the',
    'config file):',
    '',
    json({
      schema: FLEET_SCHEMA,
      version: 7,
      status: 'applied',
      inForce: 7,
      errors: [],
      at: '2026-01-01T08:00:00.000Z',
    }),
    '',
    '## Operations',
    '',
  );
  for (const op of catalog) {
    p(
      `### \`${op.name}\``,
      '',
      op.summary,
      '',
      `- topic: \`${t.root}/rpc/${op.name}\``,
      `- scope: \`${op.scope}\``,
      ...(op.http ? [`- HTTP: \`${op.http.method} ${op.http.path}\``] : []),
      ...(op.idempotent ? ['- idempotent: an `idempotencyKey` makes a retry return the first result'] : []),
      '',
      'Input:',
      '',
      json(op.input),
      '',
      'Result:',
      '',
      json(op.output),
      '',
    );
  }
  return out.join('\n');
}
