// Every operation the agent offers. Adapters (HTTP, MQTT RPC, CLI) and the OpenAPI document read this list.
import type { AnyOperation } from './operation.js';
import { health, info } from './agent-ops.js';
import { getDevice, listDevices, simulateDevice, testDevice } from './device-ops.js';
import { listAudit } from './audit-ops.js';
import { getIdCard } from './idcard-ops.js';
import { confirmSealJob, createSealJob, getSealJob, listSealJobs, resolveSealJob } from './seal-ops.js';

export const CATALOG: readonly AnyOperation[] = [
  health,
  info,
  listDevices,
  getDevice,
  testDevice,
  simulateDevice,
  listAudit,
  getIdCard,
  createSealJob,
  confirmSealJob,
  getSealJob,
  listSealJobs,
  resolveSealJob,
];

export function findOperation(name: string): AnyOperation | undefined {
  return CATALOG.find((op) => op.name === name);
}
