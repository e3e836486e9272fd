// `boxagent config init|show|get|set|validate`: the installer never has to edit YAML by hand.
import type { Command } from 'commander';
import { resolveConfigPath } from '../../config/load.js';
import { getKey, readConfigText, setKey } from '../../config/edit.js';
import { writeServiceConfig } from './service-user.js';
import { registerInit } from './config-init.js';
import { annotatedYaml, readFleetPart } from './fleet-config-view.js';
import { CONFIG_FLAGS, CONFIG_HELP, load, print, printJson, type ConfigOption } from './support.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('read, check and change the configuration');
  registerInit(config);

  config
    .command('show')
    .description(
      "print the configuration in force (file + BOXAGENT_* overrides + defaults, and the fleet's desired config), fleet keys marked apart",
    )
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .option(
      '--fleet',
      "print only the fleet's part as JSON: version, signer, fleet keys, overridden local keys",
    )
    .action((opts: ConfigOption & { json?: boolean; fleet?: boolean }) => {
      const { config: local, file } = load(opts);
      const part = readFleetPart(local);
      if (part.problem) process.stderr.write(`warning: ${part.problem}\n`);
      if (opts.fleet) printJson(part.view);
      else if (opts.json) printJson(part.effective);
      else process.stdout.write(annotatedYaml(part, file));
    });

  config
    .command('get <key>')
    .description('print one value, e.g. `http.port`')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .option('--json', 'print JSON')
    .action((key: string, opts: ConfigOption & { json?: boolean }) => {
      const value = getKey(load(opts).config, key);
      if (opts.json || (value !== null && typeof value === 'object')) printJson(value ?? null);
      else print(typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));
    });

  config
    .command('set <key> <value>')
    .description('change one value in the file (validated first; the old file is kept as .bak)')
    .option(CONFIG_FLAGS, CONFIG_HELP)
    .action((key: string, value: string, opts: ConfigOption) => {
      const file = resolveConfigPath({ file: opts.config });
      const next = setKey(readConfigText(file), file, key, value);
      const { backup } = writeServiceConfig(file, next);
      print(`${file}: ${key} set${backup ? ` (previous file: ${backup})` : ''}`);
    });

  config
    .command('validate [file]')
    .description('check a config file (and BOXAGENT_* overrides); prints every problem')
    .option('--json', 'print the resolved config as JSON')
    .action((file: string | undefined, opts: { json?: boolean }) => {
      const loaded = load({ config: file }, { checkFiles: true });
      if (opts.json) printJson(loaded.config);
      else print(`${loaded.file}: valid`);
    });
}
