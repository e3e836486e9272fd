import { Type } from '@sinclair/typebox';
import { defineOperation } from './operation.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { verbatim } from '../messages/text.js';

const DeviceCounts = Type.Object({
  total: Type.Integer(),
  ready: Type.Integer(),
  notReady: Type.Array(Type.String()),
});

function deviceCounts(services: Services) {
  const list = services.devices.list();
  const ok = (s: string) => s === 'ready' || s === 'busy';
  return {
    total: list.length,
    ready: list.filter((d) => ok(d.state)).length,
    notReady: list.filter((d) => !ok(d.state)).map((d) => d.id),
  };
}

export const health = defineOperation({
  name: 'agent.health',
  summary: 'Liveness and readiness. 503 problem with the reason when the agent is not ready.',
  scope: 'read',
  risk: 'read',
  problems: ['not-ready'],
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    status: Type.Literal('ready'),
    uptimeSeconds: Type.Number(),
    store: Type.String({ description: 'ok when the database answers' }),
    devices: DeviceCounts,
  }),
  http: { method: 'GET', path: '/v1/health' },
  handler(_input, { services }) {
    const reason = services.notReadyReason();
    if (reason) throw new Problem('not-ready', verbatim(reason));
    return {
      status: 'ready' as const,
      uptimeSeconds: Math.round((Date.now() - services.startedAt.getTime()) / 1000),
      store: services.store.ping() ? 'ok' : 'not answering',
      devices: deviceCounts(services),
    };
  },
});

export const info = defineOperation({
  name: 'agent.info',
  summary: 'Who this box is and what it runs.',
  scope: 'read',
  risk: 'read',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    box: Type.Object({ id: Type.String(), site: Type.String() }),
    version: Type.String(),
    node: Type.String(),
    startedAt: Type.String({ format: 'date-time' }),
    fleetLink: Type.Boolean({ description: 'Whether an MQTT fleet broker is configured' }),
    devices: DeviceCounts,
  }),
  http: { method: 'GET', path: '/v1/info' },
  handler(_input, { services }) {
    return {
      box: { id: services.config.box.id, site: services.config.box.site },
      version: services.version,
      node: process.version,
      startedAt: services.startedAt.toISOString(),
      fleetLink: services.config.mqtt.url !== undefined,
      devices: deviceCounts(services),
    };
  },
});
