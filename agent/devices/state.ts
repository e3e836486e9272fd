export const DEVICE_STATES = ['absent', 'opening', 'ready', 'busy', 'error', 'backoff', 'closed'] as const;
/**
 * absent → opening → ready ⇄ busy; N failed probes → error → backoff → opening. `absent` means not attached;
 * `closed` only after the daemon stopped the device.
 */
export type DeviceState = (typeof DEVICE_STATES)[number];
