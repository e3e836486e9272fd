// The wizard's answer checks, each as an installer meets it: the rule in words, never a regex.
import { describe, expect, it } from 'vitest';
import {
  boxIdFromHostname,
  checkBoxId,
  checkBrokerUrl,
  checkOrigins,
  checkStorageDir,
  isTlsBroker,
  portCheck,
  specAsTyped,
  splitOrigins,
} from '../../../agent/cli/init-answers.js';

describe('config init answers', () => {
  it('says the box id rules in words', () => {
    expect(checkBoxId('shimen-01')).toBeUndefined();
    for (const bad of ['石门村', 'box 1', '-box', 'box.local', 'x'.repeat(65)])
      expect(checkBoxId(bad), bad).toMatch(
        /Latin letters, digits, "-" and "_", starting with a letter or digit/,
      );
    expect(boxIdFromHostname('box-12.county.example')).toBe('box-12');
    expect(boxIdFromHostname('石门')).toBe('');
  });

  it('takes ports 1024–65535 only', async () => {
    const check = portCheck('127.0.0.1', false);
    expect(await check('8620')).toBeUndefined();
    for (const bad of ['80', '0', '65536', '86 20', 'http'])
      expect(await check(bad), bad).toMatch(/a number from 1024 to 65535/);
  });

  it('takes origins, not pages, and absolute state dirs', () => {
    expect(checkOrigins('https://a.example, http://10.0.0.5:8080/')).toBeUndefined();
    expect(splitOrigins('https://a.example, http://10.0.0.5:8080/')).toEqual([
      'https://a.example',
      'http://10.0.0.5:8080',
    ]);
    expect(checkOrigins('https://a.example/counter')).toMatch(
      /is not an origin: give scheme, host and port only/,
    );
    expect(checkOrigins('a.example')).toMatch(/"a\.example" is not an origin/);
    expect(checkStorageDir('var/lib/boxagent')).toMatch(/absolute path/);
  });

  it('knows a TLS broker and refuses what is no broker URL', () => {
    expect(checkBrokerUrl('mqtts://fleet.example:8883')).toBeUndefined();
    expect(checkBrokerUrl('fleet.example:8883')).toMatch(/a URL like mqtts:\/\//);
    expect(checkBrokerUrl('https://fleet.example')).toMatch(/a URL like mqtts:\/\//);
    expect(isTlsBroker('mqtts://f')).toBe(true);
    expect(isTlsBroker('mqtt://f')).toBe(false);
  });

  it('reads devices as typed', () => {
    expect(specAsTyped('camera', '/dev/video0')).toBe('video:/dev/video0');
    expect(specAsTyped('camera', 'rtsp://10.0.0.9/stream')).toBe('video:rtsp://10.0.0.9/stream');
    expect(specAsTyped('camera', 'http://10.0.0.9/mjpeg')).toBe('video:http://10.0.0.9/mjpeg');
    expect(specAsTyped('printer', '/dev/usb/lp0')).toBe('usblp:/dev/usb/lp0');
    expect(specAsTyped('seal', '/dev/ttyUSB0')).toBe('serial:/dev/ttyUSB0');
    expect(specAsTyped('rating-pad', '/dev/hidraw2')).toBe('hid:/dev/hidraw2');
    expect(specAsTyped('printer', 'tcp:10.0.0.5:9100')).toBe('tcp:10.0.0.5:9100');
  });
});
