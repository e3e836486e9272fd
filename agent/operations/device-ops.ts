import { Type, type Static } from '@sinclair/typebox';
import { DEVICE_KINDS, StringEnum } from '../../config/schema.js';
import { DEVICE_STATES } from '../devices/state.js';
import { DeviceConditionSchema, DeviceReasonFields, SelfTestReasonFields } from '../events/catalog.js';
import type { SupervisedDevice } from '../devices/supervised-device.js';
import { defineOperation } from './operation.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { t } from '../messages/text.js';

export const DeviceStatusSchema = Type.Object({
  id: Type.String(),
  kind: StringEnum(DEVICE_KINDS),
  name: Type.String(),
  transport: Type.String(),
  state: StringEnum(DEVICE_STATES),
  since: Type.String({ format: 'date-time' }),
  ...DeviceReasonFields,
  conditions: Type.Array(DeviceConditionSchema, {
    description: 'What the device reports while it answers (paper out, cover open, …)',
  }),
  identity: Type.Union([
    Type.Object({
      model: Type.String(),
      serial: Type.Optional(Type.String()),
      firmware: Type.Optional(Type.String()),
    }),
    Type.Null(),
  ]),
  consecutiveFailures: Type.Integer(),
});

const DeviceId = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

function device(services: Services, id: string): SupervisedDevice {
  const d = services.devices.get(id);
  if (!d) throw new Problem('not-found', t`no device "${id}"`, ['id']);
  return d;
}

export const listDevices = defineOperation({
  name: 'devices.list',
  summary: 'Configured devices with their live state.',
  scope: 'read',
  risk: 'read',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({ devices: Type.Array(DeviceStatusSchema) }),
  http: { method: 'GET', path: '/v1/devices' },
  handler: (_input, { services }) => ({ devices: services.devices.list() }),
});

export const getDevice = defineOperation({
  name: 'devices.get',
  summary: 'One device with its live state.',
  scope: 'read',
  risk: 'read',
  input: DeviceId,
  output: DeviceStatusSchema,
  http: { method: 'GET', path: '/v1/devices/:id' },
  handler: (input, { services }) => device(services, input.id).status(),
});

const JobSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  device: Type.String(),
  state: StringEnum(['done', 'failed'] as const),
  result: Type.Object({ ok: Type.Boolean(), summary: Type.String(), ...SelfTestReasonFields }),
  createdAt: Type.String({ format: 'date-time' }),
});

export const testDevice = defineOperation({
  name: 'devices.test',
  summary:
    "Runs the device's harmless self-test (no paper fed, no seal pressed) and records it as a job. A device " +
    'that reports a condition (paper out, not taking data) fails it at once with `reasonCode` and `reason`.',
  scope: 'admin',
  risk: 'physical',
  problems: ['device-busy', 'device-unavailable'],
  idempotent: true,
  input: DeviceId,
  output: JobSchema,
  http: { method: 'POST', path: '/v1/devices/:id/test', status: 201 },
  async handler(input, { services, principal }) {
    const { job, result } = await services.selfTests.run(
      device(services, input.id).config.id,
      principal.name,
    );
    const state = job.state === 'done' ? ('done' as const) : ('failed' as const);
    return { id: job.id, kind: job.kind, device: job.device, state, result, createdAt: job.createdAt };
  },
});

export type DeviceStatusOutput = Static<typeof DeviceStatusSchema>;
