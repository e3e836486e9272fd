// What the agent's device manager needs from any driver. Drivers know bytes and devices; they never see
// HTTP, MQTT or the store.

export interface DeviceIdentity {
  /** Maker and model as the device reports it (or as the simulator claims). */
  model: string;
  serial?: string;
  firmware?: string;
}

export interface SelfTestResult {
  ok: boolean;
  /** One line a clerk or installer can read. */
  summary: string;
  details?: Record<string, unknown>;
}

/**
 * Conditions a device that still answers can report: it is attached and talking, but cannot do its work until
 * someone at the counter acts (loads paper, closes the cover). Shown beside the device's state.
 */
export const DEVICE_CONDITIONS = [
  'paper-out',
  'cover-open',
  'paper-jam',
  'ribbon-fault',
  'head-fault',
  'printer-offline',
  'stalled',
] as const;
export type DeviceConditionCode = (typeof DEVICE_CONDITIONS)[number];

export interface DeviceDriver {
  /** Opens the transport and identifies the device. Throws DeviceAbsentError when it is not attached. */
  open(): Promise<DeviceIdentity>;
  /** Cheap health check of an open device; throws when the device does not answer as it should. */
  probe(): Promise<void>;
  /** A harmless check the installer can run on demand (no paper fed, no seal pressed). */
  selfTest(): Promise<SelfTestResult>;
  /** Releases the transport. Safe to call more than once. */
  close(): Promise<void>;
  /**
   * For drivers that notice a lost device between probes (a capture process that exited): the supervisor
   * registers here and treats the call like a failed probe at once.
   */
  onLost?(listener: (err: Error) => void): void;
  /**
   * For devices that report conditions (a printer's paper sensor): the ones present now. Polled by the
   * supervisor while the device is ready or busy; must be cheap and must not disturb a job under way.
   */
  conditions?(): Promise<readonly DeviceConditionCode[]>;
}

/** The device is not attached (no device node, no answer on the bus): distinct from a failing device. */
export class DeviceAbsentError extends Error {
  override name = 'DeviceAbsentError';
}
