// `boxagent fleet …`: the city operator's tools, speaking the MQTT contract (docs/mqtt.md) through
// agent/fleet/operator/fleet-client.ts. Each subcommand lives in its own module and registers itself here.
import type { Command } from 'commander';
import { registerBoxes } from './boxes-command.js';
import { registerCall } from './call-command.js';
import { registerEvents } from './events-command.js';
import { registerKeys } from './keys-command.js';
import { registerConfig } from './config-command.js';
import { registerUpdate } from './update-command.js';

export function registerFleet(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('operator tools for the city: boxes, calls, config, updates and events over MQTT');
  // Subcommand registrations (one line each):
  registerKeys(fleet);
  registerBoxes(fleet);
  registerCall(fleet);
  registerEvents(fleet);
  registerConfig(fleet);
  registerUpdate(fleet);
}
