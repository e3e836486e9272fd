// The `device.state` event of a device status: the state, why (text, code, technical detail) and its
// conditions, so a page can show the device from events alone.
import type { EventPayload } from '../events/catalog.js';
import type { DeviceState } from './state.js';
import type { DeviceStatus } from './supervised-device.js';

export function deviceStateEvent(status: DeviceStatus, previous: DeviceState): EventPayload<'device.state'> {
  return {
    device: status.id,
    kind: status.kind,
    state: status.state,
    previous,
    reason: status.reason,
    reasonCode: status.reasonCode,
    detail: status.detail,
    conditions: status.conditions,
  };
}
