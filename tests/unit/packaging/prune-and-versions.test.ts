// What `npm run package` keeps of node_modules for a box, and how it names versions for Debian. The package
// test (tests/package/) proves the result installs and runs; these pin the rules one case at a time.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { debianVersion, satisfiesEngines } from '../../../packaging/debian-meta.js';
import { pruneReason, splitPackage } from '../../../packaging/prune.js';

const gyp = new Set(['better-sqlite3', 'unix-dgram', 'usb', 'node-hid', '@serialport/bindings-cpp']);
const keep = (path: string, arch = 'x64', isDir = false) => pruneReason(path, arch, isDir, gyp);

describe('pruning node_modules for a linux box', () => {
  it('keeps the glibc prebuild of this architecture and drops every other system, architecture and libc', () => {
    expect(keep('usb/prebuilds/linux-x64/node.napi.glibc.node')).toBeUndefined();
    expect(keep('usb/prebuilds/linux-x64/node.napi.musl.node')).toBe('other-platform');
    expect(keep('usb/prebuilds/linux-arm64', 'x64', true)).toBe('other-platform');
    expect(keep('usb/prebuilds/linux-arm64/node.napi.armv8.node', 'arm64')).toBeUndefined();
    expect(keep('usb/prebuilds/win32-x64', 'x64', true)).toBe('other-platform');
    expect(keep('node-hid/prebuilds/HID_hidraw-linux-x64/node-napi-v4.node')).toBeUndefined();
    expect(keep('node-hid/prebuilds/HID-linux-x64-musl', 'x64', true)).toBe('other-platform');
    expect(keep('onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1')).toBeUndefined();
    expect(keep('onnxruntime-node/bin/napi-v6/linux/arm64', 'x64', true)).toBe('other-platform');
    expect(keep('onnxruntime-node/bin/napi-v6/darwin', 'x64', true)).toBe('other-platform');
    expect(keep('@koromix/koffi-linux-x64/musl_x64', 'x64', true)).toBe('other-platform');
  });

  it('drops onnxruntime GPU providers: the boxes run the models on the CPU', () => {
    expect(keep('onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so')).toBe(
      'gpu-provider',
    );
    expect(keep('onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so')).toBe(
      'gpu-provider',
    );
  });

  it('keeps only the loaded addon of a package built from source, and only there treats build/ as output', () => {
    expect(keep('better-sqlite3/build', 'x64', true)).toBeUndefined();
    expect(keep('better-sqlite3/build/Release/better_sqlite3.node')).toBeUndefined();
    expect(keep('better-sqlite3/build/Release/test_extension.node')).toBe('build-input');
    expect(keep('better-sqlite3/build/Release/obj.target', 'x64', true)).toBe('build-input');
    expect(keep('better-sqlite3/build/Makefile')).toBe('build-input');
    expect(keep('better-sqlite3/deps', 'x64', true)).toBe('build-input');
    // Plain JavaScript packages ship their code in build/: kept.
    expect(keep('mqtt/build/index.js')).toBeUndefined();
    expect(keep('fastify/node_modules/light-my-request/build/x.js')).toBeUndefined();
    // koffi keeps JavaScript under src/.
    expect(keep('koffi/src/koffi/index.cjs')).toBeUndefined();
  });

  it('drops typings, maps, dotfiles, tests and shell scripts but keeps code, licences and data', () => {
    expect(keep('ajv/dist/ajv.d.ts')).toBe('typings-and-maps');
    expect(keep('ajv/dist/ajv.js.map')).toBe('typings-and-maps');
    expect(keep('gopd/.eslintrc')).toBe('package-dev-files');
    expect(keep('pino/test', 'x64', true)).toBe('package-dev-files');
    expect(keep('pino/inc-version.sh')).toBe('package-dev-files');
    expect(keep('pino/lib/test', 'x64', true)).toBeUndefined(); // only a package's top-level test/ is tests
    expect(keep('ajv/dist/ajv.js')).toBeUndefined();
    expect(keep('ajv/LICENSE')).toBeUndefined();
    expect(keep('@embedpdf/fonts-sc/fonts/NotoSansHans-Regular.otf')).toBeUndefined();
  });

  it('finds the package a nested path belongs to', () => {
    expect(splitPackage(['a', 'node_modules', '@s', 'b', 'lib', 'x.js'])).toEqual({
      pkg: 'a/node_modules/@s/b',
      inside: ['lib', 'x.js'],
    });
    expect(splitPackage(['@s', 'b'])).toEqual({ pkg: '@s/b', inside: [] });
  });
});

describe('versions', () => {
  it('turns npm prereleases into Debian versions that sort before the release', () => {
    expect(debianVersion('1.2.3')).toBe('1.2.3');
    expect(debianVersion('1.2.3-rc.1')).toBe('1.2.3~rc.1');
    expect(debianVersion('1.2.3-beta-2+b7')).toBe('1.2.3~beta.2+b7');
    expect(() => debianVersion('latest')).toThrow(/not a semver/);
    // dpkg agrees on the order.
    const r = (a: string, op: string, b: string) =>
      spawnSync('dpkg', ['--compare-versions', a, op, b]).status === 0;
    expect(r(debianVersion('1.2.3-rc.1'), 'lt', debianVersion('1.2.3'))).toBe(true);
  });

  it('checks the build machine’s Node against engines', () => {
    expect(satisfiesEngines('>=20.19.0', 'v20.19.0')).toBe(true);
    expect(satisfiesEngines('>=20.19.0', 'v20.18.9')).toBe(false);
    expect(satisfiesEngines('>=20.19.0', 'v22.1.0')).toBe(true);
    expect(satisfiesEngines('^20.19.0 || >=22.12', 'v21.0.0')).toBe(false);
    expect(satisfiesEngines('^20.19.0 || >=22.12', 'v22.12.0')).toBe(true);
  });
});
