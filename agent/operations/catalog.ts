// Every operation the agent offers. Adapters (HTTP, MQTT RPC, CLI) and the OpenAPI document read this list.
import type { AnyOperation } from './operation.js';
import { health, info } from './agent-ops.js';
import { getDevice, listDevices, simulateDevice, testDevice } from './device-ops.js';
import { listAudit } from './audit-ops.js';
import { getIdCard } from './idcard-ops.js';
import { cancelPrint, getPrint, listPrints, previewPrint, resolvePrint, submitPrint } from './print-ops.js';
import { cameraSnapshot, captureFace } from './camera-ops.js';
import { detectFaces, faceStatus, identifyFace, verifyFace } from './face-ops.js';
import { addPersonFace, deletePerson, enrollPerson, getPerson, listPersons } from './person-ops.js';
import { makeIdPhoto } from './photo-ops.js';
import {
  cancelCertificate,
  certificateDocument,
  getCertificate,
  listCertificates,
  resolveCertificate,
  submitCertificate,
} from './certificate-ops.js';
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
  submitPrint,
  previewPrint,
  listPrints,
  getPrint,
  cancelPrint,
  resolvePrint,
  cameraSnapshot,
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
  createSealJob,
  confirmSealJob,
  getSealJob,
  listSealJobs,
  resolveSealJob,
  makeIdPhoto,
  submitCertificate,
  listCertificates,
  getCertificate,
  certificateDocument,
  cancelCertificate,
  resolveCertificate,
];

export function findOperation(name: string): AnyOperation | undefined {
  return CATALOG.find((op) => op.name === name);
}
