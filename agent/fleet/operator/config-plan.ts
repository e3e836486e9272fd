// What pushing a desired config to one box would do, worked out before anything is published: the patch is
// resolved over the box's local sections (from `config.get`) with the same code the box runs, so invalid
// documents are caught here, and the result is compared with the config in force: what changes, which
// devices go. Device removals are only planned when the operator allows them.
import { isDeepStrictEqual } from 'node:util';
import type { FleetConfigView } from '../fleet-config-state.js';
import { explicitRemovals, keyed, resolveFleetConfig, sectionsFromKeyed } from '../fleet-sections.js';
import { changes, isJsonObject, type Change, type JsonObject } from '../merge-patch.js';

export type ConfigPlan =
  | { ok: false; errors: string[] }
  | {
      ok: true;
      /** The patch to sign: the file's, plus `null` for devices it leaves out when removal is allowed. */
      patch: JsonObject;
      changes: Change[];
      /** Devices in force that the push removes. */
      removals: string[];
      /** Devices the file leaves out without `null` (added as removals when allowed). */
      leftOut: string[];
      /** True when neither the result nor the patch differs from what is in force. */
      noop: boolean;
    };

export function planConfigPush(
  view: FleetConfigView,
  filePatch: JsonObject,
  allowRemoval: boolean,
): ConfigPlan {
  const local = sectionsFromKeyed(view.local);
  const resolved = resolveFleetConfig(local, filePatch);
  if (!resolved.ok) return resolved;
  const inForce = Object.keys(isJsonObject(view.config.devices) ? view.config.devices : {});
  const next = new Set(resolved.sections.devices.map((d) => d.id));
  const nulled = new Set(explicitRemovals(filePatch));
  const leftOut = inForce.filter((id) => !next.has(id) && !nulled.has(id));
  const removals = inForce.filter((id) => !next.has(id));
  if (removals.length > 0 && !allowRemoval) {
    return {
      ok: false,
      errors: [
        `would remove device${removals.length > 1 ? 's' : ''} ${removals.join(', ')}` +
          (leftOut.length > 0 ? ` (left out of the file: ${leftOut.join(', ')})` : '') +
          '; give --allow-removal to remove them',
      ],
    };
  }
  const patch = structuredClone(filePatch);
  if (leftOut.length > 0) {
    const devices = isJsonObject(patch.devices) ? patch.devices : {};
    for (const id of leftOut) devices[id] = null;
    patch.devices = devices;
  }
  const diff = changes(view.config, keyed(resolved.sections));
  return {
    ok: true,
    patch,
    changes: diff,
    removals,
    leftOut,
    noop: diff.length === 0 && isDeepStrictEqual(view.patch ?? {}, patch),
  };
}

/** One line per change: `~ /devices/printer-1/name: "A" → "B"`, `+ /devices/seal-2: {…}`, `- /devices/seal-1`. */
export function formatChange(c: Change): string {
  const show = (v: unknown) => JSON.stringify(v);
  if (c.before === undefined) return `+ ${c.pointer}: ${show(c.after)}`;
  if (c.after === undefined) return `- ${c.pointer} (removed; was ${show(c.before)})`;
  return `~ ${c.pointer}: ${show(c.before)} → ${show(c.after)}`;
}
