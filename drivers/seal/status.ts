// The seal machine's status reply, decoded with the profile's bit map, and the interlock checks on it.
import { STATUS_FLAGS, type SealProfile, type StatusConditions } from './profile.js';

export interface SealStatus {
  documentPresent: boolean;
  coverClosed: boolean;
  headHome: boolean;
  busy: boolean;
  /** 0 = no fault; other values are the vendor's codes. */
  faultCode: number;
}

export interface ConditionFailure {
  condition: keyof SealStatus;
  expected: boolean | number;
  actual: boolean | number;
}

export function decodeStatus(profile: SealProfile, data: Buffer): SealStatus {
  const flag = (name: (typeof STATUS_FLAGS)[number]): boolean => {
    const { byte, bit, activeLow } = profile.status[name];
    const set = ((data[byte] ?? 0) & (1 << bit)) !== 0;
    return activeLow ? !set : set;
  };
  return {
    documentPresent: flag('documentPresent'),
    coverClosed: flag('coverClosed'),
    headHome: flag('headHome'),
    busy: flag('busy'),
    faultCode: data[profile.status.faultCode.byte] ?? 0,
  };
}

/** The inverse of decodeStatus, for the simulator. */
export function encodeStatus(profile: SealProfile, status: SealStatus): Buffer {
  const bytes = [profile.status.faultCode.byte, ...STATUS_FLAGS.map((f) => profile.status[f].byte)];
  const out = Buffer.alloc(Math.max(...bytes) + 1);
  for (const name of STATUS_FLAGS) {
    const { byte, bit, activeLow } = profile.status[name];
    if (status[name] !== Boolean(activeLow)) out[byte] = (out[byte] as number) | (1 << bit);
  }
  out[profile.status.faultCode.byte] = status.faultCode;
  return out;
}

/** The conditions that do not hold, in the profile's order; empty when all hold. */
export function unmetConditions(status: SealStatus, conditions: StatusConditions): ConditionFailure[] {
  const failures: ConditionFailure[] = [];
  for (const [key, expected] of Object.entries(conditions) as [keyof SealStatus, boolean | number][]) {
    if (expected !== undefined && status[key] !== expected) {
      failures.push({ condition: key, expected, actual: status[key] });
    }
  }
  return failures;
}

const WORDS: Record<keyof SealStatus, [string, string]> = {
  documentPresent: ['a document is in place', 'no document is in place'],
  coverClosed: ['the cover is closed', 'the cover is open'],
  headHome: ['the head is home', 'the head is not home'],
  busy: ['the machine is busy', 'the machine is idle'],
  faultCode: ['', ''],
};

/** "the cover is open; no document is in place": what a clerk reads. */
export function describeFailures(failures: ConditionFailure[]): string {
  return failures
    .map((f) =>
      f.condition === 'faultCode'
        ? `fault code ${String(f.actual)}`
        : WORDS[f.condition][f.actual === true ? 0 : 1],
    )
    .join('; ');
}
