// `boxagent config validate` and daemon start as processes: a duplicate device id, an impossible baud rate
// and a missing named file each give one line naming the key path, and exit 78 (config).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, runCli, tempDir, testEnv } from '../helpers/daemon.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function configFile(yaml: string): { dir: string; file: string } {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

const CASES = [
  {
    what: 'a duplicate device id',
    yaml: 'box: { id: b }\ndevices:\n  - { id: p, kind: printer, transport: { type: simulated } }\n  - { id: p, kind: seal, transport: { type: simulated } }\n',
    line: /config\.yaml:4: devices\.1\.id: duplicate device id "p" \(also devices\.0\.id\)/,
  },
  {
    what: 'an impossible baud rate',
    yaml: 'box: { id: b }\ndevices:\n  - { id: p, kind: printer, transport: { type: serial, path: /dev/ttyUSB0, baudRate: 96000 } }\n',
    line: /config\.yaml:3: devices\.0\.transport\.baudRate: 96000 is not a baud rate Linux supports; use one of: 50, /,
  },
  {
    what: 'a missing CA file',
    yaml: 'box: { id: b }\nmqtt:\n  url: mqtts://fleet.example:8883\n  ca: /nonexistent/ca.pem\n',
    line: /config\.yaml:4: mqtt\.ca: \/nonexistent\/ca\.pem does not exist/,
  },
];

describe('config validate and start refuse what cannot work', () => {
  for (const c of CASES) {
    it(`config validate: ${c.what}`, () => {
      const { dir, file } = configFile(c.yaml);
      const r = runCli(['config', 'validate', file], testEnv(dir));
      expect(r.status).toBe(78);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(c.line);
    });

    it(`daemon start: ${c.what}`, () => {
      const { dir, file } = configFile(c.yaml);
      const r = runCli(['run', '--config', file], testEnv(dir));
      expect(r.status).toBe(78);
      expect(r.stderr).toMatch(c.line);
    });
  }

  it('a valid file still says so', () => {
    const { dir, file } = configFile(
      'box: { id: b }\ndevices:\n  - { id: p, kind: printer, transport: { type: serial, path: /dev/ttyUSB-unplugged, baudRate: 115200 } }\n',
    );
    const r = runCli(['config', 'validate', file], testEnv(dir));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${file}: valid\n`);
  });
});
