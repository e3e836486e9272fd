// The fleet's part of the config as the daemon would apply it at start (the applied desired document in the
// state dir over the local config), for `config show` and `doctor`: which keys the fleet sets, which local
// (installer's) keys it overrides, and the config in force with both marked apart.
import { accessSync, constants, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Document, isCollection, isScalar } from 'yaml';
import type { Config } from '../../config/schema.js';
import { FleetConfigState, type FleetConfigView } from '../fleet/fleet-config-state.js';
import { pointerPath, valueAt } from '../fleet/merge-patch.js';

export interface FleetPart {
  /** The config in force: the local one with the fleet's sections over it. */
  effective: Config;
  view: FleetConfigView;
  /** Why the applied document is not used (unreadable, does not fit), when it is not. */
  problem?: string;
}

/** The fleet's part for a config loaded from its file (not changed). */
export function readFleetPart(config: Config): FleetPart {
  const effective = structuredClone(config);
  const dir = resolve(config.storage.dir);
  let problem: string | undefined;
  if (config.mqtt.url !== undefined && existsSync(dir)) {
    try {
      accessSync(dir, constants.R_OK | constants.X_OK);
    } catch {
      problem = `cannot read ${dir} as this user: the fleet config in force is not shown (run as root or the service user)`;
    }
  }
  const state = FleetConfigState.load(
    config,
    dir,
    config.mqtt.url !== undefined && problem === undefined,
    (file, reason) => {
      problem = `${file}: ${reason}`;
    },
  );
  state.overlay(effective);
  return { effective, view: state.view(), ...(problem ? { problem } : {}) };
}

/** A keyed pointer (`/devices/printer-1/name`) as a path into the config (`devices.0.name`). */
function configPath(effective: Config, p: string): (string | number)[] | undefined {
  const path: (string | number)[] = pointerPath(p);
  if (path[0] === 'devices' && path.length > 1) {
    const index = effective.devices.findIndex((d) => d.id === path[1]);
    if (index < 0) return undefined;
    path[1] = index;
  }
  return path;
}

/**
 * The config in force as YAML, the fleet's keys marked with a comment (`# fleet v7`, and for a local key it
 * overrides `# fleet v7, overrides local: <value>`); a header says where it comes from and what the fleet removed.
 */
export function annotatedYaml(part: FleetPart, file: string): string {
  const { effective, view } = part;
  const doc = new Document(effective);
  const header = [` The configuration in force: ${file}, BOXAGENT_* overrides and defaults`];
  if (view.inForce > 0) {
    header.push(
      ` with the fleet's desired config version ${view.inForce} (signed by ${view.signedBy ?? 'an earlier build'}, applied ${view.appliedAt ?? 'earlier'}).`,
      ' Keys marked "fleet" are set by the fleet; "overrides local" ones replace the installer\'s value.',
    );
  } else header.push(' No fleet config is in force: every key is local.');
  if (part.problem) header.push(` Fleet config not used: ${part.problem}`);
  const overridden = new Set(view.overridden);
  const removed: string[] = [];
  for (const p of view.fleetKeys) {
    const path = configPath(effective, p);
    const node = path ? doc.getIn(path, true) : undefined;
    if (!node) {
      if (overridden.has(p)) removed.push(p);
      continue;
    }
    const local = valueAt(view.local, pointerPath(p));
    const note = ` fleet v${view.inForce}${overridden.has(p) ? `, overrides local: ${JSON.stringify(local)}` : ''}`;
    if (isScalar(node)) node.comment = note;
    else if (isCollection(node)) node.commentBefore = note;
  }
  if (removed.length > 0) header.push(` Local keys the fleet removes: ${removed.join(', ')}`);
  doc.commentBefore = header.join('\n');
  return doc.toString();
}
