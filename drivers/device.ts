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
}

/** The device is not attached (no device node, no answer on the bus): distinct from a failing device. */
export class DeviceAbsentError extends Error {
  override name = 'DeviceAbsentError';
}
