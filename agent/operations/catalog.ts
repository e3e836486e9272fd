// Every operation the agent offers: the core ones here, then each device kind's own (agent/kinds/). Adapters
// (HTTP, MQTT RPC, CLI) and the OpenAPI document read this list.
import { KIND_UNITS } from '../kinds/index.js';
import type { AnyOperation } from './operation.js';
import { health, info } from './agent-ops.js';
import { getDevice, listDevices, testDevice } from './device-ops.js';
import { simulateDevice } from './simulator-ops.js';
import { listAudit } from './audit-ops.js';
import { listEvents } from './event-ops.js';
import { getConfig } from './config-ops.js';
import { captureFace } from './camera-ops.js';
import { detectFaces, faceStatus, identifyFace, verifyFace } from './face-ops.js';
import { addPersonFace, deletePerson, enrollPerson, getPerson, listPersons } from './person-ops.js';
import { makeIdPhoto } from './photo-ops.js';
import { approvePairing, denyPairing, listPairings } from './pairing-ops.js';
import { listTokens, revokeToken } from './token-ops.js';
import { agentRestart, agentUpdate, logsTail } from './update-ops.js';

const CORE: readonly AnyOperation[] = [
  health,
  info,
  listDevices,
  getDevice,
  testDevice,
  simulateDevice,
  listAudit,
  listEvents,
  getConfig,
  captureFace,
  faceStatus,
  detectFaces,
  verifyFace,
  identifyFace,
  enrollPerson,
  addPersonFace,
  getPerson,
  listPersons,
  deletePerson,
  makeIdPhoto,
  listPairings,
  approvePairing,
  denyPairing,
  listTokens,
  revokeToken,
  agentUpdate,
  agentRestart,
  logsTail,
];

export const CATALOG: readonly AnyOperation[] = [...CORE, ...KIND_UNITS.flatMap((unit) => unit.operations)];

export function findOperation(name: string): AnyOperation | undefined {
  return CATALOG.find((op) => op.name === name);
}
