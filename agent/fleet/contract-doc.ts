// docs/mqtt.md, generated: the fleet's MQTT contract (topics, payloads, problem types), every event type of
// the event catalog, and one section per operation of the catalog, with the same input/output schemas and
// scopes as the HTTP API.
import { renderUpdates } from './update-doc.js';
import type { AnyOperation } from '../operations/operation.js';
import { ProblemExtensionsSchema } from '../problems/extensions.js';
import { PROBLEM_BASE, PROBLEMS } from '../problems/registry.js';
import { createHash, createPrivateKey } from 'node:crypto';
import { RISKS, UNSIGNED_RISKS } from '../../config/schema.js';
import { FLEET_SECTIONS, REPORTED_REASONS, REPORTED_STATUSES } from './config-sync.js';
import { CONFIG_SIGNATURE_TYPE, desiredConfigBytes, signDesiredConfig } from './config-signing.js';
import { canonicalJson } from '../operations/canonical-json.js';
import { signRequest, signedBytes } from './request-signing.js';
import { EVENT_CATALOG, JobEventBase } from '../events/catalog.js';
import { FLEET_SCHEMA, fleetTopics } from './contract.js';
import { PROTECTED_EVENT_PREFIXES } from './event-pump.js';

/**
 * The worked example of a signed desired config: RFC 8032's first Ed25519 test key (a published key, never a
 * fleet's), so anyone can recompute the signature. tests/unit/fleet/config-signing.test.ts checks it.
 */
export const CONFIG_SIGNING_EXAMPLE = {
  seedHex: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKeyBase64: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=',
  keyId: 'city-ops',
  boxId: 'box-7',
  version: 7,
  // A merge patch: rename printer-1 (its other keys stay the installer's), remove seal-1, probe less often.
  config: {
    supervision: { probeIntervalMs: 5000 },
    devices: { 'printer-1': { name: '窗口一打印机' }, 'seal-1': null },
  },
};

/**
 * The worked example of a signed RPC request, same test key: fixed timestamp and nonce, a Chinese note.
 * tests/unit/fleet/request-signing-vector.test.ts checks it.
 */
export const RPC_SIGNING_EXAMPLE = {
  operation: 'seal.resolve',
  boxId: 'box-7',
  params: { id: 'seal-job-1', outcome: 'failed', note: '印文模糊，已作废' },
  timestamp: 1796000000,
  nonce: '5f0c2a9e7b3d4a61',
};

function exampleKey() {
  // PKCS#8 DER of an Ed25519 private key: a fixed 16-byte prefix, then the 32-byte seed.
  const der = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.from(CONFIG_SIGNING_EXAMPLE.seedHex, 'hex'),
  ]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

const json = (v: unknown): string => '```json\n' + JSON.stringify(v, null, 2) + '\n```';

const RISK_MEANING: Record<(typeof RISKS)[number], string> = {
  read: 'device states, health, job lists: nothing about a resident',
  print: 'printing work: forms, previews, rating requests, cancelling jobs',
  'personal-data':
    'reveals a resident: faces, camera frames, ID-card data, person records, certificates, audit',
  identity: 'changes who a resident is: enrolment, adding faces, erasure',
  document: 'makes or settles an official document: certificates, seal jobs, reprints',
  physical: 'moves hardware beyond printing: pressing the seal, device self-tests',
  config: 'changes how the box behaves: config, tokens, simulator faults',
};

/** How a fleet signs a desired config document, with a test vector. */
function renderConfigSigning(): string[] {
  const e = CONFIG_SIGNING_EXAMPLE;
  const bytes = desiredConfigBytes(e.boxId, e.version, e.config);
  const doc = signDesiredConfig(exampleKey(), e.keyId, e.boxId, e.version, e.config);
  return [
    'A desired document is applied only when signed by a key of `mqtt.signing.keys` whose role has the `admin`',
    'scope; otherwise it is reported `rejected` with `reason: "bad-signature"` and nothing changes. The signed',
    'bytes are the UTF-8 of the RFC 8785 canonical JSON (see Signing above) of the object',
    `\`{"boxId", "config", "type": "${CONFIG_SIGNATURE_TYPE}", "version"}\`: a document signed for one box or one`,
    'version is refused by every other. `version` is an integer from 1 to 2^53−1. Only an applied document',
    'raises the version in force; a rejected or rolled-back one (bad signature, invalid, unhealthy) never blocks',
    'a later valid one, and only a signed document can raise the floor, so a forged huge version locks nothing.',
    'A box with no admin-role key takes no config from the fleet.',
    '',
    `Test vector: RFC 8032's first test key (seed \`${e.seedHex}\`, public key`,
    `\`${e.publicKeyBase64}\`, configured as \`mqtt.signing.keys.${e.keyId}\` with role \`admin\`), box \`${e.boxId}\`.`,
    'The signed bytes:',
    '',
    '```',
    bytes.toString('utf8'),
    '```',
    '',
    'The document the fleet publishes (retained) on `…/config/desired`:',
    '',
    json(doc),
    '',
    'In Node.js: `sign(null, Buffer.from(canonicalJson({ boxId, config, type: "boxagent-config-v1", version })),',
    'privateKey).toString("base64")` (`agent/fleet/config-signing.ts`, `signDesiredConfig`); in Python:',
    '`tests/helpers/python-signer.py` (standard `json` with `ensure_ascii=False`, and `cryptography`).',
  ];
}

/** Desired and reported config: the merge patch, removals, every reported status, config.get. */
function renderDesiredConfig(): string[] {
  const sections = FLEET_SECTIONS.map((x) => `\`${x}\``).join(', ');
  return [
    '## Desired and reported config',
    '',
    `The fleet owns the keys of the sections ${sections} (same schema as the config file); box identity,`,
    'HTTP, storage and the broker settings are installer-owned and never taken from the fleet.',
    '',
    '### The desired document: a merge patch over the local config',
    '',
    'The document on `…/config/desired` is `{version, config, signature}`. `config` is the **whole desired state',
    "of the fleet-owned keys, as an RFC 7386 JSON Merge Patch over the installer's config** (the *local* config:",
    'its file, `BOXAGENT_*` overrides and defaults):',
    '',
    "- a key the patch leaves out keeps the installer's value; a key it sets overrides it; `null` removes it;",
    '  an object merges member by member, any other value (a list, a string) replaces the whole value.',
    '- `devices` is an object **keyed by device id**, not a list: `"printer-1": {…}` merges into the local',
    '  device of that id, or adds a device of that id (then it needs `kind` and `transport`); `"seal-1": null`',
    '  removes it. Entries carry no `id` (or the same one as their key). A document without `devices` keeps',
    '  every local device as it is.',
    '- Each document states the whole desired state over the local config, never a change to the previous',
    '  version: a box that missed versions is right after the newest one.',
    '- **Removing a device needs an explicit `null`.** A device in force that the new document would drop',
    '  without one (added by version 7 and absent from version 8) makes the document `rejected` with',
    '  `reason: "implicit-removal"`, the ids named in `errors`; nothing changes.',
    '- The result is validated as the config file is (defaults filled in); only the devices whose settings',
    '  change (or all, when `supervision` changes) are restarted and must become ready within',
    '  `mqtt.configHealthTimeoutSeconds`, else the change is rolled back. Devices that do not change keep',
    '  running. The applied document is kept in the state dir and applied over the config file at every',
    '  start; an installer who edits the local file later still gets the fleet’s keys on top.',
    '- Every applied change writes an audit entry `config.applied` (actor `fleet-key:<keyId>`, detail',
    '  `{version, keyId, changed}`: `changed` lists JSON Pointers of what changed in the fleet-owned sections).',
    '',
    'Pointers (RFC 6901) name keys in the keyed form: `/devices/printer-1/transport/path`, `/supervision/backoffMaxMs`.',
    '',
    ...renderConfigSigning(),
    '',
    '### Reported',
    '',
    'The box answers **every** desired document it receives (also at each reconnect, when the broker sends the',
    'retained one again) on `…/config/reported`, retained:',
    '',
    '| status | reason | meaning |',
    '| --- | --- | --- |',
    '| `applied` | | the version is now in force |',
    '| `rejected` | `bad-signature` | not signed by an admin-role key for this box and version; nothing looked at |',
    '| `rejected` | `invalid` | not a merge patch of fleet-owned sections, or the result is not a valid config |',
    '| `rejected` | `implicit-removal` | it would drop devices in force without `null` (ids in `errors`) |',
    '| `rolled_back` | `unhealthy` | applied, but a restarted device did not become ready; the previous config is back |',
    '| `stale` | | its version is below the one in force; nothing changes |',
    '| `unchanged` | | its version is the one in force (e.g. redelivered at a reconnect); nothing changes |',
    '',
    'A rolled-back version is remembered in the state database and **never retried by the box itself**: seen',
    'again (after a restart, at a reconnect) it is answered `rolled_back` at once, with the first attempt’s',
    'errors, and not applied. To try again, publish the fixed document under a higher version.',
    `(\`status\` is one of ${REPORTED_STATUSES.map((x) => `\`${x}\``).join(', ')}; \`reason\` one of`,
    `${REPORTED_REASONS.map((x) => `\`${x}\``).join(', ')}.)`,
    '',
    '`inForce` is the version in force after the document (0: the local config alone); `overridden` lists the',
    'local keys the config in force overrides or removes (a local key the fleet sets to another value is',
    'reported here, not silently lost; `boxagent config show` and `doctor` on the box show them too):',
    '',
    json({
      schema: FLEET_SCHEMA,
      version: 7,
      status: 'applied',
      inForce: 7,
      errors: [],
      overridden: ['/devices/printer-1/name', '/devices/seal-1', '/supervision/probeIntervalMs'],
      at: '2026-01-01T08:00:00.000Z',
    }),
    '',
    json({
      schema: FLEET_SCHEMA,
      version: 8,
      status: 'rejected',
      reason: 'implicit-removal',
      inForce: 7,
      errors: [
        'device seal-2 is in force but absent from this document: remove it explicitly with "devices": {"seal-2": null}',
      ],
      overridden: ['/devices/printer-1/name', '/devices/seal-1', '/supervision/probeIntervalMs'],
      at: '2026-01-01T08:05:00.000Z',
    }),
    '',
    '### Reading the config in force: `config.get`',
    '',
    'The RPC `config.get` (below; scope `admin`: the fleet role when it is `admin`, or a request signed by an',
    'admin-role key) answers `{inForce, appliedAt, signedBy, config, local, patch, fleetKeys, overridden}`:',
    'the version in force and the key that signed it, the fleet-owned sections in force and the local ones',
    '(devices keyed by id), the patch in force, the keys the fleet sets, and the local keys it overrides. A',
    'fleet tool resolves a new patch over `local` to show what it would change before publishing it',
    '(`boxagent fleet config push` does).',
  ];
}

/** The canonical form, key and nonce formats, and the RPC test vector. */
function renderSigning(): string[] {
  const e = RPC_SIGNING_EXAMPLE;
  const s = signRequest(exampleKey(), 'city-ops', e.operation, e.params, e.boxId, e.timestamp, e.nonce);
  const canonical = canonicalJson(e.params);
  return [
    '### Signing: canonical form, keys, nonces',
    '',
    '- **Canonical form**: RFC 8785, JSON Canonicalization Scheme (JCS). Object members sorted by the UTF-16',
    '  code units of their names, at every depth; no whitespace; numbers as ECMAScript writes them (`1e+21`,',
    '  `1e-7`, `0.000001`, never `1.0`); strings escape only `"`, `\\` and U+0000–U+001F (`\\b \\t \\n \\f \\r`,',
    '  the others `\\u00xx` in lowercase); everything else, Chinese included, is written as itself and signed as',
    '  UTF-8. A value with no RFC 8785 form (a lone surrogate) is refused `bad-signature`.',
    '- **Not enough**: “keys sorted, no spaces”. Python’s `json.dumps(v, sort_keys=True, separators=(",", ":"))`',
    '  writes `窗` as `\\u7a97` (`ensure_ascii` defaults to true), so its bytes and signature differ. With',
    '  `ensure_ascii=False` and `.encode("utf-8")` it matches RFC 8785 for strings, integers and usual names;',
    '  floats (Python writes `1e-07`, RFC 8785 `1e-7`) and names mixing U+E000–U+FFFF with characters beyond',
    '  U+FFFF (Python sorts by code point) need an RFC 8785 library.',
    '- **Keys**: Ed25519 (RFC 8032). `mqtt.signing.keys.<keyId>.publicKey` is either the raw 32-byte public key',
    '  in base64 (44 characters) or a PEM `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo). Signatures are',
    '  the 64 raw bytes in base64 (standard alphabet, padded). `openssl genpkey -algorithm ed25519` makes a',
    '  key, `openssl pkeyutl -sign -rawin` signs the bytes as they are (Ed25519 hashes nothing beforehand).',
    '- **Nonce**: 8 to 64 printable ASCII characters (U+0021–U+007E), unique per key while its timestamp is in',
    '  the replay window; 16 or more random bytes in hex are the safe choice.',
    '',
    `Test vector: RFC 8032's first test key, a published key for tests only (seed \`${CONFIG_SIGNING_EXAMPLE.seedHex}\`,`,
    `public key \`${CONFIG_SIGNING_EXAMPLE.publicKeyBase64}\`, as \`city-ops\`); \`${e.operation}\` on box \`${e.boxId}\`,`,
    `timestamp \`${e.timestamp}\`, nonce \`${e.nonce}\`, params:`,
    '',
    json(e.params),
    '',
    'Canonical params (the SHA-256 is taken over their UTF-8):',
    '',
    '```',
    canonical,
    '```',
    '',
    `SHA-256: \`${createHash('sha256').update(canonical).digest('hex')}\`. The signed bytes (six lines):`,
    '',
    '```',
    signedBytes(e.operation, e.params, e.boxId, e).toString('utf8'),
    '```',
    '',
    `Signature: \`${s.value}\``,
  ];
}

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
    `| \`${t.telemetry}\` | box → fleet | 0, retained | health every \`mqtt.telemetryIntervalSeconds\` |`,
    `| \`${t.events}\` | box → fleet | 1 | the durable outbox, in \`seq\` order |`,
    `| \`${t.root}/rpc/<operation>\` | fleet → box | 1 | a request for an operation below |`,
    `| \`${t.configDesired}\` | fleet → box | 1, retained | the signed, versioned desired state of the fleet-owned keys (a merge patch over the local config) |`,
    `| \`${t.configReported}\` | box → fleet | 1, retained | the answer to the last desired document (every one is answered) |`,
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
      since: '2026-01-01T08:00:00.900Z',
      connectedAt: '2026-01-01T08:00:01.000Z',
      devices: { total: 4, ready: 3, notReady: { 'seal-1': 'error' } },
    }),
    '',
    'Offline: `reason` is `lost` when the broker published the Last Will, `stopped` after a graceful stop.',
    'A will whose `sessionId` is not the one of the latest online status is stale and can be ignored.',
    '`since` is when the session began (the box opened its connection; `connectedAt` is when the broker accepted',
    'it): in the online status the box is online since then, in the offline one it dates the session that ended.',
    'The offline status keeps the `site` and `version` of the session, so a fleet view still names them.',
    'The box sends an MQTT keepalive every `mqtt.keepaliveSeconds` (default 30) when idle: a box that hangs or',
    'loses its network without closing the connection is declared lost by the broker after 1.5 times that.',
    '',
    json({
      schema: FLEET_SCHEMA,
      online: false,
      box: 'box-7',
      site: 'Village hall',
      version: '0.1.0',
      sessionId: '5f0c…',
      since: '2026-01-01T08:00:00.900Z',
      reason: 'lost',
    }),
    '',
    '## Events',
    '',
    'Every kept event is written to the outbox in SQLite in the same transaction as the change that caused it and',
    'published QoS 1 in `seq` order; a row counts as sent only after its PUBACK. QoS 1 is at-least-once: after',
    'a broker restart a message that was in flight may arrive again; de-duplicate on `id`. `seq` is per box and',
    'strictly increasing over every kept event; a jump means the collector missed events (it was away without a',
    'persistent session, or they were dropped from a full outbox: see telemetry `outbox`).',
    `Types starting with ${PROTECTED_EVENT_PREFIXES.map((x) => `\`${x}\``).join(', ')} are never dropped.`,
    '',
    '### What a collector must do',
    '',
    'So that no event is lost between the box and the fleet:',
    '',
    `1. Subscribe to \`${t.events}\` at QoS 1 with a persistent session (a fixed client id, \`clean: false\`;`,
    '   MQTT 5: a `sessionExpiryInterval` longer than the longest outage it must bridge). The broker then queues',
    '   the events published while the collector is away; it needs persistence on to keep them across its restarts.',
    '2. De-duplicate by event `id`: QoS 1 delivers at least once, and a fetched event may also still arrive.',
    '3. Remember the highest `seq` stored per box. A received event whose `seq` is more than one above it, or a',
    '   telemetry `lastEventSeq` above it, is a gap.',
    '4. Fetch a gap with the RPC `events.list {"after": <highest seq stored>, "limit": …}` (every kept event, in',
    "   `seq` order, with the log's `lastSeq`) and ask again from the last returned `seq` until it reaches",
    '   `lastSeq`. The box keeps `storage.maxEvents` events (never trimming unsent ones while a broker is',
    '   configured); when the first returned `seq` is above `after + 1`, the events between are gone for good.',
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
    'Published retained, so a fleet view that subscribes late gets the last sample at once (its `at` tells its age).',
    '',
    'Fields: `box`, `at`, `uptimeSeconds`, `cpu {loadAverage, cores, processPercent}`,',
    '`memory {totalBytes, freeBytes, processRssBytes}`, `disk {path, freeBytes, totalBytes}` (the state dir),',
    '`temperatureC` (hottest readable thermal zone, or null), `devices` (id → state), `deviceSince` (id → when the',
    'device entered that state: how long it has been in it; a map beside `devices` so that one keeps its shape),',
    '`jobs` (kind → state → count),',
    '`outbox {depth, oldestUnsentAgeSeconds, droppedSinceStart, warning?}`, `warnings` (strings),',
    '`auditHead {seq, hash}` (the newest audit entry, or null): keep it as the anchor for',
    '`boxagent audit verify --head SEQ:HASH`, which then reports a cut or rewritten log; `lastEventSeq` (the newest',
    'kept event, 0 for none): above the last `seq` a collector has, it shows a gap (see Events).',
    '',
    '### Alerts',
    '',
    'The box derives alerts itself (config section `alerts`, fleet-owned) and sends them as the kept events',
    '`alert.raised` and `alert.cleared` (never dropped from a full outbox): `device-not-ready` when a device has',
    'been out of `ready`/`busy` for `alerts.deviceNotReadySeconds` (default 300; `deviceId` names it, `since` is',
    'when it left ready), `outbox-growing` when more than `alerts.outboxDepth` (1000) events wait or the oldest',
    'has waited `alerts.outboxAgeSeconds` (900). Each is raised once per condition and cleared once when it ends',
    '(a device that is ready again or removed, a drained outbox); the alerts in force survive a restart of the',
    'daemon. A fleet view shows the raised alerts without a cleared one after them.',
    '',
    '## RPC',
    '',
    `Publish to \`${t.root}/rpc/<operation>\`:`,
    '',
    '- MQTT 5: the payload is the operation input (a JSON object); set `responseTopic` and `correlationData`.',
    '  `messageExpiryInterval` is honoured: a request that expired before it could run is answered',
    '  `request-expired`, and the reply carries the remaining expiry. User property `idempotencyKey` works like',
    '  the HTTP `Idempotency-Key` header.',
    '- MQTT 3.1.1: an envelope `{"id", "replyTo", "params", "expiresAt"?, "idempotencyKey"?, "locale"?}`; the',
    '  reply echoes `id`.',
    '',
    'Requests to a box that is offline: the box keeps a persistent session (`clean: false`; MQTT 5',
    '`sessionExpiryInterval` = `mqtt.sessionExpirySeconds`, default 7 days; 0 turns it off), so the broker queues',
    'QoS 1 requests for it while it is away (broker persistence on, and no queue cap that drops them). Give such a',
    'request a `messageExpiryInterval` (3.1.1: `expiresAt`): it runs when the box is back if it has not expired,',
    'and is answered `request-expired` or dropped by the broker otherwise. A signed request must still be within',
    "`mqtt.signing.replayWindowSeconds` of its timestamp when it runs. The reply carries the request's",
    '`idempotencyKey` (in the body, and as a user property on MQTT 5), so a fleet that retried can match answers.',
    '',
    "An error's `title` and `detail` are in `box.locale` (zh-CN unless configured) unless the request asks for a",
    "language: user property `locale` (MQTT 5) or the envelope's `locale` (3.1.1), `zh-CN` or `en`, read like",
    'an `Accept-Language` value. The example below asked for `en`; `type` is the same in every language.',
    '',
    'Replies go to the response topic (QoS 1):',
    '',
    json({ schema: FLEET_SCHEMA, ok: true, idempotencyKey: 'k-7', result: {} }),
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
    'Every operation declares a risk class (listed with each operation below):',
    '',
    '| risk | what it covers |',
    '| --- | --- |',
    ...RISKS.map((r) => `| \`${r}\` | ${RISK_MEANING[r]} |`),
    '',
    'What `mqtt.signing.required` lists runs only when signed with an Ed25519 key of `mqtt.signing.keys`: risk',
    `classes as \`risk:<class>\` and operations by name (a trailing \`*\` matches a prefix). The default is every`,
    `class but ${UNSIGNED_RISKS.map((r) => `\`${r}\``).join(' and ')}; \`print.resolve\` with \`"outcome": "reprint"\` is a`,
    '`document` (a second copy of a form in doubt). A signed request runs with that key’s role. The',
    'signature covers these lines joined with `\\n` (no newline at the end): `boxagent-rpc-v1`, the operation, the',
    'box id, the timestamp (unix seconds, decimal), the nonce, and the lowercase hex SHA-256 of the UTF-8 of the',
    'params in RFC 8785 canonical form (see Signing below). The timestamp must be within',
    '`mqtt.signing.replayWindowSeconds` of the box’s clock and the nonce never used before by that key:',
    'used nonces are kept in the state database until their timestamp leaves the window, so a signed request',
    'runs at most once, across restarts too. MQTT 5: user',
    'properties `keyId`, `timestamp`, `nonce`, `signature` (base64); envelope: `"signature": {"keyId",',
    '"timestamp", "nonce", "value"}`. Failures answer `bad-signature`.',
    '',
    'RPC messages must be published without the retain flag: one delivered from the broker’s retained store is',
    'never run (it would run again at every connect) and is answered `invalid-request` where a reply address is',
    'given.',
    '',
    ...renderSigning(),
    '',
    '### Problem types',
    '',
    '| type | status | title |',
    '| --- | --- | --- |',
    ...Object.entries(PROBLEMS).map(
      ([code, v]) => `| \`${PROBLEM_BASE}${code}\` | ${v.status} | ${v.title} |`,
    ),
    '',
    'Beside `type`, `title`, `status`, `detail` and `field`, a problem may carry these members',
    '(`agent/problems/extensions.ts`; the same in `/openapi.json`, schema `Problem`):',
    '',
    '| member | meaning |',
    '| --- | --- |',
    ...Object.entries(ProblemExtensionsSchema.properties).map(
      ([name, schema]) => `| \`${name}\` | ${schema.description ?? ''} |`,
    ),
    '',
    ...renderDesiredConfig(),
    '',
    ...renderUpdates(t.root),
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
      `- risk: \`${op.risk}\`${op.riskOf ? ' (some inputs are riskier: see Signed requests)' : ''}`,
      ...(op.alwaysSigned
        ? ['- signed: always, by a fleet key (whatever `mqtt.signing.required` says)']
        : []),
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
