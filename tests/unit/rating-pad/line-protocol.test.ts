// The serial `line` profile codec: checksum (NMEA 0183 vector), frames cut and joined at every place, noise,
// damaged and overlong frames, and the messages of both directions.
import { describe, expect, it } from 'vitest';
import {
  checksum,
  encodeCommand,
  encodeLine,
  encodePadMessage,
  LineDecoder,
  MAX_LINE,
  parseCommand,
  parsePadMessage,
  type LineItem,
} from '../../../drivers/rating-pad/line-protocol.js';

const frames = (items: LineItem[]) => items.map((i) => (i.type === 'frame' ? i.fields.join(',') : i.kind));

describe('line framing', () => {
  it('uses the NMEA 0183 checksum', () => {
    // The textbook GGA sentence, checksum 47.
    expect(checksum('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe(0x47);
    expect(encodeLine(['KEY', '4', '17']).toString()).toBe('$KEY,4,17*65\r\n');
  });

  it('decodes the same frames whether the bytes come one at a time, cut anywhere or all together', () => {
    const stream = Buffer.concat([
      encodeLine(['ACK', 'LIGHT']),
      encodeLine(['KEY', '5', '1']),
      encodeLine(['ID', 'Pad', 'S1', '1.0', 'LB']),
    ]);
    const expected = ['ACK,LIGHT', 'KEY,5,1', 'ID,Pad,S1,1.0,LB'];
    expect(frames(new LineDecoder().push(stream))).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new LineDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(frames(got)).toEqual(expected);
    }
    const d = new LineDecoder();
    expect(frames([...stream].flatMap((b) => d.push(Buffer.from([b]))))).toEqual(expected);
  });

  it('skips noise before a frame, accepts a bare LF and lowercase hex', () => {
    const d = new LineDecoder();
    expect(frames(d.push(Buffer.from('\x00\xff garbage $KEY,2,9*5c\n')))).toEqual(['KEY,2,9']);
    expect(frames(d.push(Buffer.from('no frame here\r\n')))).toEqual([]);
  });

  it('reports a damaged or cut-off frame and goes on with the next', () => {
    const d = new LineDecoder();
    const bad = Buffer.from('$KEY,3,9*00\r\n');
    const items = d.push(Buffer.concat([bad, Buffer.from('$KEY*'), encodeLine(['ACK', 'BEEP'])]));
    expect(frames(items)).toEqual(['checksum', 'malformed', 'ACK,BEEP']);
    expect(items[0]).toMatchObject({ detail: expect.stringMatching(/should be/) as unknown });
  });

  it('drops a line without an end beyond the limit, then reads the next frame', () => {
    const d = new LineDecoder();
    const items = d.push(Buffer.from('$' + 'A'.repeat(MAX_LINE + 5)));
    expect(frames(items)).toEqual(['overlong']);
    expect(frames(d.push(Buffer.from('AAAA*00\r\n')))).toEqual([]);
    expect(frames(d.push(encodeLine(['ACK', 'LIGHT'])))).toEqual(['ACK,LIGHT']);
  });

  it('refuses fields that would break the framing', () => {
    expect(() => encodeLine(['ID', 'a,b'])).toThrow(RangeError);
    expect(() => encodeLine(['ID', '满意'])).toThrow(RangeError);
  });
});

describe('line messages', () => {
  it('round-trips every host command', () => {
    const commands = [
      { type: 'identify' },
      { type: 'light', on: true },
      { type: 'light', on: false },
      { type: 'beep', ms: 150 },
      { type: 'show', text: '请评价 王芳 窗口3' },
      { type: 'show', text: '' },
      { type: 'ack-key', seq: 255 },
    ] as const;
    for (const c of commands) {
      const [item] = new LineDecoder().push(encodeCommand(c));
      expect(item?.type === 'frame' && parseCommand(item.fields)).toEqual(c);
    }
    expect(encodeCommand({ type: 'light', on: true }).toString()).toBe('$LIGHT,1*43\r\n');
  });

  it('names what is wrong with a bad command', () => {
    expect(parseCommand(['LIGHT', '2'])).toEqual({ error: 'RANGE', command: 'LIGHT' });
    expect(parseCommand(['BEEP', '0'])).toEqual({ error: 'RANGE', command: 'BEEP' });
    expect(parseCommand(['BEEP', '2001'])).toEqual({ error: 'RANGE', command: 'BEEP' });
    expect(parseCommand(['DANCE'])).toEqual({ error: 'UNKNOWN', command: 'DANCE' });
    expect(() => encodeCommand({ type: 'show', text: '字'.repeat(21) })).toThrow(/at most 60/);
  });

  it('round-trips every pad message and ignores frames it does not define', () => {
    const messages = [
      {
        type: 'id',
        model: 'HP-5 Pad',
        serial: 'A123',
        firmware: '2.1',
        capabilities: { light: true, beep: false, display: true },
      },
      { type: 'ack', command: 'LIGHT' },
      { type: 'nak', command: 'SHOW', reason: 'UNSUPPORTED' },
      { type: 'key', key: '3', seq: 0 },
    ] as const;
    for (const m of messages) {
      const [item] = new LineDecoder().push(encodePadMessage(m));
      expect(item?.type === 'frame' && parsePadMessage(item.fields)).toEqual(m);
    }
    expect(parsePadMessage(['KEY', '3', '256'])).toBeUndefined();
    expect(parsePadMessage(['HELLO'])).toBeUndefined();
  });
});
