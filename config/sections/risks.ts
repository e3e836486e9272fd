// Risk classes of operations (issue 14). Each operation of the catalog declares one; over MQTT the classes in
// `mqtt.signing.required` (as `risk:<class>`) run only when signed. Kept here, next to the scopes, because the
// config schema names them and config/ imports nothing from agent/.
import { StringEnum } from '../schema-kit.js';

export const RISKS = [
  // States, health, job lists: nothing about a resident.
  'read',
  // Printing work: forms, previews, rating requests, cancelling one's own jobs.
  'print',
  // Reveals a resident: faces, camera frames, ID-card data, person records, certificates, the audit log.
  'personal-data',
  // Changes who a resident is: enrolment, adding faces, erasure.
  'identity',
  // Makes or settles an official document: certificates, seal jobs, reprints of a form in doubt.
  'document',
  // Moves hardware beyond printing: pressing the seal, device self-tests.
  'physical',
  // Changes how the box behaves: config, tokens, simulator faults.
  'config',
] as const;
export type Risk = (typeof RISKS)[number];
export const RiskSchema = StringEnum(RISKS, { description: 'Risk class of an operation' });

/** The classes an unsigned fleet request may run (the default of `mqtt.signing.required` is the rest). */
export const UNSIGNED_RISKS: readonly Risk[] = ['read', 'print'];
