// The event catalog: every event type the box publishes, declared once with its payload schema, the token
// scope a caller needs to receive it, and whether it is kept (stored in the event log, replayed with
// Last-Event-ID and sent to the fleet) or live-only (SSE listeners connected at the time, nothing stored).
// `EventLog.publish` is typed by it, the SSE stream filters by it, and docs/mqtt.md and /openapi.json are
// generated from it.
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { DEVICE_KINDS, SCOPES, StringEnum, type Scope } from '../../config/schema.js';
import { DEVICE_STATES } from '../devices/state.js';
import { DEVICE_CONDITIONS } from '../../drivers/device.js';
import { DEVICE_REASON_CODES } from '../messages/device-reasons.js';
import {
  CERTIFICATE_STATES,
  PRINT_JOB_STATES,
  RATING_JOB_STATES,
  SEAL_JOB_STATES,
  SELF_TEST_STATES,
  UPDATE_FAILURE_CODES,
  UPDATE_JOB_STATES,
} from '../store/job-states.js';

export interface EventDefinition<P extends TObject = TObject> {
  /** One line for the docs. */
  description: string;
  payload: P;
  /** A token needs this scope (or admin) to receive the event. */
  scope: Scope;
  /** Stored in the event log / fleet outbox (true), or only handed to live listeners (false). */
  kept: boolean;
}

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/**
 * The shared shape of every job event, `<kind>.job`: the job, its kind, its device, the state it moved to
 * and the one it left (null for a new job), plus kind-specific fields. Published on every transition.
 */
export function jobEventSchema<
  const K extends string,
  const S extends readonly string[],
  P extends TProperties,
>(kind: K, states: S, extra: P) {
  return Type.Object(
    {
      job: Type.String({ description: 'The job id' }),
      kind: Type.Literal(kind),
      device: Type.String({ description: 'The device the job runs on' }),
      state: StringEnum(states),
      previous: Nullable(StringEnum(states, { description: 'The state before; null for a new job' })),
      reason: Type.Optional(
        Type.String({ description: 'Why, when the job failed, expired or went in doubt' }),
      ),
      ...extra,
    },
    { additionalProperties: false },
  );
}

/** Any job event, for a client that handles them alike. */
export const JobEventBase = Type.Object({
  job: Type.String(),
  kind: Type.String({ description: 'The job kind; the event type is `<kind>.job`' }),
  device: Type.String(),
  state: Type.String(),
  previous: Nullable(Type.String()),
});

/** Why a device is not doing its work: clerk text (English for now), its stable code, the technical cause. */
export const DeviceReasonFields = {
  reason: Nullable(Type.String({ description: 'What a clerk reads; the text of `reasonCode`' })),
  reasonCode: Nullable(
    StringEnum(DEVICE_REASON_CODES, {
      description: 'Stable code: a supervision reason (unplugged, not-answering, …) or the first condition',
    }),
  ),
  detail: Nullable(
    Type.String({ description: "The technical cause (the driver's error), for an installer" }),
  ),
};

/** A self-test that failed because the device cannot do its work now: why, for a clerk and as a code. */
export const SelfTestReasonFields = {
  reasonCode: Type.Optional(
    StringEnum(DEVICE_REASON_CODES, {
      description: 'When the device cannot do its work now (paper out, not taking data, …): why',
    }),
  ),
  reason: Type.Optional(Type.String({ description: 'The text of `reasonCode`, for a clerk' })),
};

export const DeviceConditionSchema = Type.Object(
  {
    code: StringEnum(DEVICE_CONDITIONS),
    reason: Type.String({ description: 'What a clerk reads' }),
    since: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

const Coded = Type.Object({ code: Type.String(), name: Nullable(Type.String()) });

/**
 * Names a pairing in its events. `id` is its public reference, a digest of the poll id: the poll id itself is
 * the requesting page's secret and is never published.
 */
const PairingRef = {
  id: Type.String({ description: "The pairing's public reference (not the page's poll id)" }),
  code: Type.String({ description: 'The code the page shows, XXXX-XXXX' }),
};

export const ALERT_KINDS = ['device-not-ready', 'outbox-growing'] as const;

/** `alert.raised` and `alert.cleared` alike: which alert, about what, since when, and what was seen. */
const AlertPayload = Type.Object(
  {
    alert: StringEnum(ALERT_KINDS),
    deviceId: Type.Optional(Type.String({ description: 'The device, for device-not-ready' })),
    since: Type.String({
      format: 'date-time',
      description:
        'When the condition began (device-not-ready: since the device left ready; outbox: when first seen)',
    }),
    detail: Type.String({ description: 'What was seen, for the operator (state and reason; depth and age)' }),
  },
  { additionalProperties: false },
);

const define = <P extends TObject>(d: EventDefinition<P>): EventDefinition<P> => d;

export const EVENT_CATALOG = {
  'device.state': define({
    description:
      'A device changed state (supervision: absent, opening, ready, busy, error, backoff, closed) or its conditions changed (paper out, cover open, …; then `previous` equals `state`). Retries while in backoff or absent publish nothing until the outcome changes.',
    scope: 'read',
    kept: true,
    payload: Type.Object(
      {
        device: Type.String(),
        kind: StringEnum(DEVICE_KINDS),
        state: StringEnum(DEVICE_STATES),
        previous: StringEnum(DEVICE_STATES),
        ...DeviceReasonFields,
        conditions: Type.Array(DeviceConditionSchema),
      },
      { additionalProperties: false },
    ),
  }),
  'print.job': define({
    description: 'A dot-matrix print job changed state (in the same transaction as the change).',
    scope: 'read',
    kept: true,
    payload: jobEventSchema('print', PRINT_JOB_STATES, {}),
  }),
  'print.queue': define({
    description: "A printer's queue paused (paper out, printer stalled) or resumed.",
    scope: 'read',
    kept: true,
    payload: Type.Object(
      {
        printer: Type.String(),
        state: StringEnum(['paused', 'running']),
        reason: Type.Optional(Type.String({ description: 'Why it paused (the technical cause)' })),
        reasonCode: Type.Optional(
          StringEnum(DEVICE_REASON_CODES, { description: 'Stable code of why it paused (paper-out, …)' }),
        ),
        previousReason: Type.Optional(Type.String({ description: 'Why it had paused, on resume' })),
        previousReasonCode: Type.Optional(StringEnum(DEVICE_REASON_CODES)),
      },
      { additionalProperties: false },
    ),
  }),
  'seal.job': define({
    description: 'A seal job changed state, including `firing` just before the press (audited).',
    scope: 'seal',
    kept: true,
    payload: jobEventSchema('seal', SEAL_JOB_STATES, {
      document: Type.Object({ kind: Type.String(), number: Type.String() }, { additionalProperties: false }),
      operator: Type.String(),
    }),
  }),
  'certificate.job': define({
    description: 'A certificate job changed state, or got its seal job.',
    scope: 'print',
    kept: true,
    payload: jobEventSchema('certificate', CERTIFICATE_STATES, {
      template: Type.String(),
      printerJob: Type.Optional(Type.Integer({ description: "The photo printer's job id (IPP job-id)" })),
      sealJob: Type.Optional(
        Type.String({
          description:
            'The current seal job: made after printing, or anew after one expired or failed unpressed',
        }),
      ),
    }),
  }),
  'rating.job': define({
    description:
      "A service rating (好差评) changed state: waiting for the resident's key, then rated, timeout, canceled or failed.",
    scope: 'read',
    kept: true,
    payload: jobEventSchema('rating', RATING_JOB_STATES, {
      counter: Type.String({ description: 'The service window that asked' }),
      service: Type.String({ description: 'The service just given (e.g. its item code)' }),
      rating: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 5, description: 'Once rated: 5 = 非常满意 … 1 = 非常不满意' }),
      ),
    }),
  }),
  'selftest.job': define({
    description: "A device's harmless self-test (`devices.test`) finished.",
    scope: 'admin',
    kept: true,
    payload: jobEventSchema('selftest', SELF_TEST_STATES, {
      by: Type.String({ description: 'The token that asked for it' }),
      result: Type.Optional(
        Type.Object(
          {
            ok: Type.Boolean(),
            summary: Type.String({ description: 'One line for the installer' }),
            details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
            ...SelfTestReasonFields,
          },
          { description: 'What the self-test found, once it ran' },
        ),
      ),
    }),
  }),
  'update.job': define({
    description:
      'An agent update (`agent.update`) moved on: accepted, downloading (with bytes/total, at most every 10 % or 5 s), verifying, installing, restarting; then healthy (sent by the new version), rolled_back (by the old one, after the boot selector switched back) or failed.',
    scope: 'admin',
    kept: true,
    payload: jobEventSchema('update', UPDATE_JOB_STATES, {
      version: Type.String({ description: 'The version being installed' }),
      from: Type.String({ description: 'The version that ran when the update began' }),
      bytes: Type.Optional(Type.Integer({ description: 'While downloading: bytes received so far' })),
      total: Type.Optional(Type.Integer({ description: 'While downloading: the release size' })),
      reasonCode: Type.Optional(
        StringEnum(UPDATE_FAILURE_CODES, { description: 'Why it failed or was rolled back' }),
      ),
    }),
  }),
  'idcard.read': define({
    description:
      'A resident ID card was read (once per presentation). Live only: personal data is never kept in the event log.',
    scope: 'idcard',
    kept: false,
    payload: Type.Object(
      {
        device: Type.String(),
        name: Type.String(),
        sex: Coded,
        nation: Coded,
        birthDate: Type.String(),
        address: Type.String(),
        idNumber: Type.String({ description: 'Masked unless the reader has revealIdNumber' }),
        idNumberMasked: Type.Boolean(),
        idNumberCheck: Type.Object({ valid: Type.Boolean(), reason: Nullable(Type.String()) }),
        authority: Type.String(),
        validFrom: Type.String(),
        validTo: Type.String(),
        nameHasPrivateUseChars: Type.Boolean(),
        photo: Type.Object({
          format: Type.String(),
          bytes: Type.Integer(),
          available: Type.Boolean({
            description:
              'The photo was decoded: GET /v1/idcard/:device/card has it as JPEG (never in the event)',
          }),
        }),
        readAt: Type.String({ format: 'date-time' }),
      },
      { additionalProperties: false },
    ),
  }),
  'idcard.present': define({
    description:
      'A card came onto an ID card reader (before it is read; `idcard.read` follows). No personal data; live only: a presence from the past would mislead a page.',
    scope: 'idcard',
    kept: false,
    payload: Type.Object({ device: Type.String() }, { additionalProperties: false }),
  }),
  'idcard.removed': define({
    description: 'The card was taken off an ID card reader. No personal data; live only.',
    scope: 'idcard',
    kept: false,
    payload: Type.Object({ device: Type.String() }, { additionalProperties: false }),
  }),
  'face.capture.hint': define({
    description: 'What a running face capture is missing changed; a hint for the resident. Live only.',
    scope: 'face',
    kept: false,
    payload: Type.Object(
      {
        capture: Type.String(),
        camera: Type.String(),
        missing: Type.String({ description: 'no-face, too-far, not-frontal, blurred, not-live, …' }),
        hint: Type.String(),
      },
      { additionalProperties: false },
    ),
  }),
  'audit.entry': define({
    description: 'An entry was appended to the hash-chained audit log (in its transaction).',
    scope: 'admin',
    kept: true,
    payload: Type.Object(
      {
        seq: Type.Integer(),
        at: Type.String(),
        actor: Type.String(),
        action: Type.String(),
        target: Nullable(Type.String()),
        detail: Type.Record(Type.String(), Type.Unknown()),
        hash: Type.String(),
      },
      { additionalProperties: false },
    ),
  }),
  'config.fleet-unreadable': define({
    description:
      'The applied fleet config in the state dir could not be read at start; the box runs on its config file until the fleet sends a version.',
    scope: 'admin',
    kept: true,
    payload: Type.Object(
      {
        file: Type.String({ description: 'The unreadable file' }),
        reason: Type.String({ description: 'Why it could not be used' }),
      },
      { additionalProperties: false },
    ),
  }),
  'pairing.requested': define({
    description:
      'A page asked to pair (POST /v1/pairings); approve it by its code on the box (`boxagent token approve CODE`).',
    scope: 'admin',
    kept: true,
    payload: Type.Object(
      {
        ...PairingRef,
        name: Type.String({ description: 'The name the page gave' }),
        origin: Type.String({
          description: 'The Origin the request came from; the token will be bound to it',
        }),
        scopes: Type.Array(StringEnum(SCOPES), { description: 'The scopes asked for' }),
        expiresAt: Type.String({ format: 'date-time' }),
      },
      { additionalProperties: false },
    ),
  }),
  'pairing.approved': define({
    description: 'A pairing request was approved; the page collects its token on its next poll.',
    scope: 'admin',
    kept: true,
    payload: Type.Object(
      {
        ...PairingRef,
        origin: Type.String(),
        scopes: Type.Array(StringEnum(SCOPES), { description: 'The scopes granted' }),
        by: Type.String({ description: 'Who approved it' }),
      },
      { additionalProperties: false },
    ),
  }),
  'pairing.denied': define({
    description: 'A pairing request was denied.',
    scope: 'admin',
    kept: true,
    payload: Type.Object(
      { ...PairingRef, origin: Type.String(), by: Type.String() },
      { additionalProperties: false },
    ),
  }),
  'pairing.expired': define({
    description: 'A pairing request expired unapproved, or approved but its token was not collected in time.',
    scope: 'admin',
    kept: true,
    payload: Type.Object(
      {
        ...PairingRef,
        origin: Type.String(),
        previous: StringEnum(['pending', 'approved'], { description: 'The state it expired in' }),
      },
      { additionalProperties: false },
    ),
  }),
  'alert.raised': define({
    description:
      'The box raised an alert (config `alerts`): a device not ready for longer than `alerts.deviceNotReadySeconds`, or the fleet outbox growing past `alerts.outboxDepth` / `alerts.outboxAgeSeconds`. Once per condition; `alert.cleared` follows when it ends.',
    scope: 'read',
    kept: true,
    payload: AlertPayload,
  }),
  'alert.cleared': define({
    description:
      'A raised alert ended (the device is ready again or was removed, the outbox drained); `since` is when its condition began, as in `alert.raised`.',
    scope: 'read',
    kept: true,
    payload: AlertPayload,
  }),
  'audit.broken': define({
    description: 'The audit hash chain failed its check at start: an entry was edited or removed.',
    scope: 'admin',
    kept: true,
    payload: Type.Object({ brokenAt: Type.Integer() }, { additionalProperties: false }),
  }),
};

export type EventCatalog = typeof EVENT_CATALOG;
export type EventType = keyof EventCatalog;
export type EventPayload<T extends EventType> = Static<EventCatalog[T]['payload']>;
/** The job event types, `<kind>.job`, and the job kinds they name. */
export type JobEventType = Extract<EventType, `${string}.job`>;
export type JobEventKind = JobEventType extends `${infer K}.job` ? K : never;

export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

/** The catalog entry of a type name from outside (a stored row, a JS caller); undefined for unknown ones. */
export function eventDefinition(type: string): EventDefinition | undefined {
  return Object.hasOwn(EVENT_CATALOG, type) ? EVENT_CATALOG[type as EventType] : undefined;
}

/** Job events (`<kind>.job`): never dropped from a full outbox. */
export const JOB_EVENT_TYPES = EVENT_TYPES.filter((t): t is Extract<EventType, `${string}.job`> =>
  t.endsWith('.job'),
);

/** The scope needed to receive an event; a type not in the catalog (a stored row from before a rename) is admin's. */
export function eventScope(type: string): Scope {
  return eventDefinition(type)?.scope ?? 'admin';
}
