// The doctor's check of the fleet's part of the config: which version is in force and who signed it, and
// every local (installer's) key the fleet overrides, so an installer's calibration is never lost silently.
import type { Config } from '../../config/schema.js';
import { pointerPath, valueAt } from '../fleet/merge-patch.js';
import type { CheckResult } from './doctor.js';
import { readFleetPart } from './fleet-config-view.js';

export function checkFleetConfig(config: Config): CheckResult[] {
  if (config.mqtt.url === undefined)
    return [{ check: 'fleet config', verdict: 'ok', detail: 'no fleet link: every key is local' }];
  const { view, problem } = readFleetPart(config);
  if (problem) {
    return [
      {
        check: 'fleet config',
        verdict: 'warn',
        detail: `${problem}; the box runs on its local config`,
        fix: "the fleet's next version replaces it (boxagent fleet config push)",
      },
    ];
  }
  if (view.inForce === 0)
    return [{ check: 'fleet config', verdict: 'ok', detail: 'no fleet config applied: every key is local' }];
  const results: CheckResult[] = [
    {
      check: 'fleet config',
      verdict: 'ok',
      detail: `version ${view.inForce} in force (signed by ${view.signedBy ?? 'an earlier build'}); fleet keys: ${view.fleetKeys.join(', ') || 'none'}`,
    },
  ];
  if (view.overridden.length > 0) {
    const describe = (p: string) => {
      const local = JSON.stringify(valueAt(view.local, pointerPath(p)));
      const fleet = valueAt(view.config, pointerPath(p));
      return `${p} (local ${local}, fleet ${fleet === undefined ? 'removed' : JSON.stringify(fleet)})`;
    };
    results.push({
      check: 'local keys overridden',
      verdict: 'warn',
      detail: `the fleet overrides ${view.overridden.map(describe).join('; ')}`,
      fix: "change them in the fleet's desired config; the local value is not used while the fleet sets it",
    });
  }
  return results;
}
