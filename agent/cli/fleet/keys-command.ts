// `boxagent fleet keys create NAME`: an operator's Ed25519 signing pair. NAME.key (PKCS#8 PEM, 0600) stays
// with the operator; NAME.pub holds the raw 32-byte public key in base64, the form the boxes take in
// `mqtt.signing.keys.<NAME>.publicKey`, and the command prints the config lines to paste on the boxes.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../../config/atomic-write.js';
import { CliError, EXIT_USAGE, print, printJson } from '../support.js';

/** The key id pattern of `mqtt.signing.keys` (config/sections/mqtt.ts). */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CreatedKey {
  keyId: string;
  privateKeyFile: string;
  publicKeyFile: string;
  /** base64 of the 32 raw bytes. */
  publicKey: string;
}

export function createKeyPair(name: string, dir: string, force = false): CreatedKey {
  if (!KEY_ID.test(name))
    throw new CliError(`key name "${name}": use 1-64 of A-Z a-z 0-9 . _ - (it is the key id)`, EXIT_USAGE);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The JWK `x` member is the raw public key (base64url); the boxes take standard base64.
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const created: CreatedKey = {
    keyId: name,
    privateKeyFile: resolve(join(dir, `${name}.key`)),
    publicKeyFile: resolve(join(dir, `${name}.pub`)),
    publicKey: raw.toString('base64'),
  };
  // Checked first so that an existing public key never leaves a new private key beside it.
  if (!force && [created.privateKeyFile, created.publicKeyFile].some((f) => existsSync(f)))
    throw new CliError(`${created.privateKeyFile} or ${created.publicKeyFile} exists; --force replaces them`);
  try {
    writeFileAtomic(created.privateKeyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
      exclusive: !force,
    });
    writeFileAtomic(created.publicKeyFile, created.publicKey + '\n', { mode: 0o644, exclusive: !force });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST'
        ? `${created.privateKeyFile} or ${created.publicKeyFile} exists; --force replaces them`
        : `cannot write the key pair in ${resolve(dir)}: ${code ?? String(err)}`,
    );
  }
  return created;
}

/** The lines to add to a box's config so it accepts requests signed with the key. */
export function configSnippet(key: CreatedKey, role: string): string {
  return [
    'mqtt:',
    '  signing:',
    '    keys:',
    `      ${key.keyId}:`,
    `        publicKey: ${key.publicKey}`,
    `        role: ${role}`,
  ].join('\n');
}

export function registerKeys(fleet: Command): void {
  const keys = fleet.command('keys').description("the operator's Ed25519 signing keys");
  keys
    .command('create <name>')
    .description(
      'write NAME.key (private, 0600) and NAME.pub (base64 raw public key) and print the box config',
    )
    .option('--dir <dir>', 'where to write them', '.')
    .option('--role <role>', 'the role (mqtt.roles) the printed config gives the key', 'admin')
    .option('--force', 'replace existing files')
    .option('--json', 'print JSON')
    .action((name: string, opts: { dir: string; role: string; force?: boolean; json?: boolean }) => {
      const key = createKeyPair(name, opts.dir, opts.force);
      if (opts.json) {
        printJson({
          ...key,
          config: {
            mqtt: { signing: { keys: { [key.keyId]: { publicKey: key.publicKey, role: opts.role } } } },
          },
        });
        return;
      }
      print(`private key: ${key.privateKeyFile} (keep it off the boxes)`);
      print(`public key:  ${key.publicKeyFile}`);
      print('');
      print('Add to each box config (/etc/boxagent/config.yaml):');
      print(configSnippet(key, opts.role));
    });
}
