// The IPP encoding (RFC 8010): a request built here decodes to the same attributes; response values of
// every type a printer sends (integers, enums, ranges, resolutions, dates, text with language,
// collections, out-of-band) decode; truncated messages are errors, not garbage.
import { describe, expect, it } from 'vitest';
import {
  attr,
  attrs,
  decodeMessage,
  encodeRequest,
  IppCodecError,
  IPP_OPERATIONS,
  VALUE_TAGS,
} from '../../../drivers/transport/ipp-codec.js';

/** One attribute value as bytes: tag, name, value. */
function value(tag: number, name: string, v: Buffer): Buffer {
  const n = Buffer.from(name);
  const head = Buffer.alloc(3);
  head.writeUInt8(tag, 0);
  head.writeUInt16BE(n.length, 1);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(v.length);
  return Buffer.concat([head, n, len, v]);
}
const int = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe('IPP codec', () => {
  it('round-trips a Print-Job request with its document', () => {
    const data = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
    const msg = encodeRequest({
      operation: IPP_OPERATIONS.printJob,
      requestId: 7,
      groups: [
        {
          name: 'operation',
          attributes: [
            { tag: 'charset', name: 'attributes-charset', values: ['utf-8'] },
            { tag: 'nameWithoutLanguage', name: 'job-name', values: ['老年人优待证 1'] },
            { tag: 'keyword', name: 'requested-attributes', values: ['job-id', 'job-state'] },
          ],
        },
        { name: 'job', attributes: [{ tag: 'integer', name: 'copies', values: [2] }] },
      ],
      data,
    });
    expect(msg.subarray(0, 8)).toEqual(Buffer.from([2, 0, 0, 2, 0, 0, 0, 7]));
    expect(msg.subarray(-4)).toEqual(data);
    const back = decodeMessage(msg.subarray(0, -4));
    expect(back.requestId).toBe(7);
    expect(attr(back, 'operation', 'job-name')).toBe('老年人优待证 1');
    expect(attrs(back, 'operation', 'requested-attributes')).toEqual(['job-id', 'job-state']);
    expect(attr(back, 'job', 'copies')).toBe(2);
  });

  it('decodes the value types printers answer with, collections included', () => {
    const range = Buffer.concat([int(1), int(99)]);
    const res = Buffer.from([0x01, 0x01, 0x00, 0x00, 0, 0, 0, 3]);
    const date = Buffer.from([0x07, 0xea, 11, 26, 6, 30, 0, 0, 0x2b, 8, 0]);
    const textLang = Buffer.concat([
      Buffer.from([0, 2]),
      Buffer.from('zh'),
      Buffer.from([0, 6]),
      Buffer.from('就绪'),
    ]);
    const resolution = Buffer.concat([int(300), int(300), Buffer.from([3])]);
    const body = Buffer.concat([
      res,
      Buffer.from([0x04]),
      value(VALUE_TAGS.enum, 'printer-state', int(5)),
      value(VALUE_TAGS.keyword, 'printer-state-reasons', Buffer.from('media-empty-error')),
      value(VALUE_TAGS.keyword, '', Buffer.from('marker-supply-low-warning')),
      value(VALUE_TAGS.rangeOfInteger, 'copies-supported', range),
      value(VALUE_TAGS.resolution, 'printer-resolution-default', resolution),
      value(VALUE_TAGS.dateTime, 'printer-current-time', date),
      value(VALUE_TAGS.textWithLanguage, 'printer-state-message', textLang),
      value(VALUE_TAGS.noValue, 'printer-alert', Buffer.alloc(0)),
      value(VALUE_TAGS.begCollection, 'media-col-default', Buffer.alloc(0)),
      value(VALUE_TAGS.memberAttrName, '', Buffer.from('media-size')),
      value(VALUE_TAGS.begCollection, '', Buffer.alloc(0)),
      value(VALUE_TAGS.memberAttrName, '', Buffer.from('x-dimension')),
      value(VALUE_TAGS.integer, '', int(8560)),
      value(VALUE_TAGS.endCollection, '', Buffer.alloc(0)),
      value(VALUE_TAGS.memberAttrName, '', Buffer.from('media-type')),
      value(VALUE_TAGS.keyword, '', Buffer.from('cardstock')),
      value(VALUE_TAGS.endCollection, '', Buffer.alloc(0)),
      Buffer.from([0x03]),
    ]);
    const m = decodeMessage(body);
    expect(m).toMatchObject({ version: '1.1', status: 0, requestId: 3 });
    expect(attr(m, 'printer', 'printer-state')).toBe(5);
    expect(attrs(m, 'printer', 'printer-state-reasons')).toEqual([
      'media-empty-error',
      'marker-supply-low-warning',
    ]);
    expect(attr(m, 'printer', 'copies-supported')).toEqual({ lower: 1, upper: 99 });
    expect(attr(m, 'printer', 'printer-resolution-default')).toEqual({ x: 300, y: 300, units: 'dpi' });
    expect(attr(m, 'printer', 'printer-current-time')).toBe('2026-11-26T06:30:00+08:00');
    expect(attr(m, 'printer', 'printer-state-message')).toBe('就绪');
    expect(attr(m, 'printer', 'printer-alert')).toBeNull();
    expect(attr(m, 'printer', 'media-col-default')).toEqual({
      'media-size': [{ 'x-dimension': [8560] }],
      'media-type': ['cardstock'],
    });
  });

  it('refuses a truncated message', () => {
    const whole = encodeRequest({
      operation: IPP_OPERATIONS.getPrinterAttributes,
      requestId: 1,
      groups: [
        {
          name: 'operation',
          attributes: [{ tag: 'charset', name: 'attributes-charset', values: ['utf-8'] }],
        },
      ],
    });
    for (const cut of [4, 10, whole.length - 3, whole.length - 1]) {
      expect(() => decodeMessage(whole.subarray(0, cut))).toThrow(IppCodecError);
    }
  });
});
