// The card's text block: field layout, code tables, GB 11643 check, rare characters and masking.
import { describe, expect, it } from 'vitest';
import {
  NATION_CODES,
  TEXT_LENGTH,
  checkIdNumber,
  decodeCardText,
  encodeCardText,
  idCheckCharacter,
  maskIdNumber,
  type CardTextInput,
} from '../../../drivers/idcard/card-text.js';

const CARD: CardTextInput = {
  name: '张三',
  sex: '1',
  nation: '01',
  birthDate: '19850315',
  address: '湖南省长沙市芙蓉区某某路1号',
  idNumber: '430102198503151236',
  authority: '长沙市公安局芙蓉分局',
  validFrom: '20150101',
  validTo: '20350101',
};

describe('card text', () => {
  it('decodes the fields at their fixed offsets, trimming the space padding', () => {
    const text = encodeCardText(CARD);
    expect(text.length).toBe(TEXT_LENGTH);
    // Name is the first 30 bytes, UCS-2 LE, then spaces.
    expect(text.subarray(0, 6)).toEqual(Buffer.from([0x20, 0x5f, 0x09, 0x4e, 0x20, 0x00]));
    // The ID number starts at byte 30 + 2 + 4 + 16 + 70 = 122.
    expect(text.subarray(122, 158).toString('utf16le')).toBe('430102198503151236');
    expect(decodeCardText(text)).toEqual({
      name: '张三',
      sex: { code: '1', name: '男' },
      nation: { code: '01', name: '汉' },
      birthDate: '1985-03-15',
      address: '湖南省长沙市芙蓉区某某路1号',
      idNumber: '430102198503151236',
      idNumberCheck: { valid: true, expected: '6', reason: null },
      authority: '长沙市公安局芙蓉分局',
      validFrom: '2015-01-01',
      validTo: '2035-01-01',
      nameHasPrivateUseChars: false,
    });
  });

  it('reads a card that does not expire (长期) and a female, Miao card', () => {
    const card = decodeCardText(encodeCardText({ ...CARD, sex: '2', nation: '06', validTo: '长期' }));
    expect(card.validTo).toBe('长期');
    expect(card.sex).toEqual({ code: '2', name: '女' });
    expect(card.nation).toEqual({ code: '06', name: '苗' });
  });

  it('has the 56 nationalities of GB 3304, plus 97 and 98', () => {
    const codes = Object.keys(NATION_CODES);
    for (let i = 1; i <= 56; i++) expect(codes).toContain(String(i).padStart(2, '0'));
    expect(codes.length).toBe(58);
    expect(NATION_CODES['56']).toBe('基诺');
  });

  it('keeps an unknown code visible instead of guessing', () => {
    const card = decodeCardText(encodeCardText({ ...CARD, nation: '77', sex: '5' }));
    expect(card.nation).toEqual({ code: '77', name: null });
    expect(card.sex).toEqual({ code: '5', name: null });
  });

  it('keeps rare characters: Extension A as itself, private-use code points as decoded and flagged', () => {
    const extA = decodeCardText(encodeCardText({ ...CARD, name: '刘䶮' }));
    expect(extA.name).toBe('刘䶮');
    expect(extA.nameHasPrivateUseChars).toBe(false);
    const pua = decodeCardText(encodeCardText({ ...CARD, name: '王\uE0A5明' }));
    expect(pua.name).toBe('王\uE0A5明');
    expect(pua.nameHasPrivateUseChars).toBe(true);
  });

  it('refuses to write a character outside the BMP, which UCS-2 cannot hold', () => {
    expect(() => encodeCardText({ ...CARD, name: '𠈌' })).toThrow(/outside the BMP/);
  });
});

describe('GB 11643 check character', () => {
  it('matches the standard example and an X check', () => {
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(checkIdNumber('11010519491231002X').valid).toBe(true);
    expect(checkIdNumber('11010519491231002x').valid).toBe(true);
  });

  it('reports a mismatch with the character it expected', () => {
    expect(checkIdNumber('430102198503151237')).toEqual({
      valid: false,
      expected: '6',
      reason: 'check character is 7, the first 17 digits give 6',
    });
  });

  it('reports a malformed number', () => {
    expect(checkIdNumber('43010219850315')).toMatchObject({ valid: false, expected: null });
  });
});

describe('masking', () => {
  it('keeps the first 3 and last 4 characters', () => {
    expect(maskIdNumber('430102198503151234')).toBe('430***********1234');
    expect(maskIdNumber('12345')).toBe('*****');
  });
});
