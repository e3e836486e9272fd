// The 256-byte text block of a second-generation resident ID card: fixed-width UCS-2 little-endian fields,
// padded with spaces. Decoding goes both ways (the simulator writes cards with `encodeCardText`).
//
// Rare characters: UCS-2 has no surrogate pairs, so the card can only hold BMP characters. CJK Extension A
// (U+3400–U+4DBF, e.g. 䶮) is in the BMP and decodes as itself. A character outside the BMP is written by
// the card issuing system as a code point of the Private Use Area (U+E000–U+F8FF) from the public security
// rare-character set; we keep that code point as decoded (no remapping: the mapping table is not public) and
// flag the name with `nameHasPrivateUseChars`, so the counter software knows it needs the matching font. A
// surrogate code unit (a writer that broke the UCS-2 rule) is kept if it forms a valid pair, else it
// decodes to U+FFFD.

/** Field widths in bytes, in card order; 220 bytes used, the rest of the 256 is reserved. */
export const TEXT_FIELDS = [
  ['name', 30],
  ['sex', 2],
  ['nation', 4],
  ['birthDate', 16],
  ['address', 70],
  ['idNumber', 36],
  ['authority', 30],
  ['validFrom', 16],
  ['validTo', 16],
] as const;
export type TextFieldName = (typeof TEXT_FIELDS)[number][0];
export const TEXT_LENGTH = 256;

/** GB/T 2261.1 sex codes. */
export const SEX_CODES: Readonly<Record<string, string>> = {
  '0': '未知',
  '1': '男',
  '2': '女',
  '9': '未说明',
};

/** GB 3304 nationality codes, named as the card prints them (without the trailing 族). */
export const NATION_CODES: Readonly<Record<string, string>> = {
  '01': '汉',
  '02': '蒙古',
  '03': '回',
  '04': '藏',
  '05': '维吾尔',
  '06': '苗',
  '07': '彝',
  '08': '壮',
  '09': '布依',
  '10': '朝鲜',
  '11': '满',
  '12': '侗',
  '13': '瑶',
  '14': '白',
  '15': '土家',
  '16': '哈尼',
  '17': '哈萨克',
  '18': '傣',
  '19': '黎',
  '20': '傈僳',
  '21': '佤',
  '22': '畲',
  '23': '高山',
  '24': '拉祜',
  '25': '水',
  '26': '东乡',
  '27': '纳西',
  '28': '景颇',
  '29': '柯尔克孜',
  '30': '土',
  '31': '达斡尔',
  '32': '仫佬',
  '33': '羌',
  '34': '布朗',
  '35': '撒拉',
  '36': '毛南',
  '37': '仡佬',
  '38': '锡伯',
  '39': '阿昌',
  '40': '普米',
  '41': '塔吉克',
  '42': '怒',
  '43': '乌孜别克',
  '44': '俄罗斯',
  '45': '鄂温克',
  '46': '德昂',
  '47': '保安',
  '48': '裕固',
  '49': '京',
  '50': '塔塔尔',
  '51': '独龙',
  '52': '鄂伦春',
  '53': '赫哲',
  '54': '门巴',
  '55': '珞巴',
  '56': '基诺',
  '97': '其他',
  '98': '外国血统中国籍人士',
};

/** The card's `validTo` for a card that does not expire. */
export const LONG_TERM = '长期';

export interface CodedValue {
  code: string;
  /** Null when the code is not in the table (shown as the code by callers). */
  name: string | null;
}

export interface IdNumberCheck {
  /** True when the 18th character matches the GB 11643 mod 11-2 check of the first 17. */
  valid: boolean;
  /** The check character the first 17 digits call for; null when they are not 17 digits. */
  expected: string | null;
  /** Why it is not valid, for a clerk. */
  reason: string | null;
}

export interface CardText {
  name: string;
  sex: CodedValue;
  nation: CodedValue;
  /** YYYY-MM-DD when the card holds 8 digits, else the raw text. */
  birthDate: string;
  address: string;
  idNumber: string;
  idNumberCheck: IdNumberCheck;
  authority: string;
  validFrom: string;
  /** YYYY-MM-DD, or `长期` for a card that does not expire. */
  validTo: string;
  nameHasPrivateUseChars: boolean;
}

const utf16 = new TextDecoder('utf-16le');

/** Splits the text block into its raw fields (trailing spaces and NULs removed). */
export function splitCardText(text: Buffer): Record<TextFieldName, string> {
  if (text.length < TEXT_LENGTH - 36) {
    throw new RangeError(`card text is ${text.length} bytes; the fields need ${TEXT_LENGTH - 36}`);
  }
  const out = {} as Record<TextFieldName, string>;
  let at = 0;
  for (const [field, width] of TEXT_FIELDS) {
    out[field] = trimPadding(utf16.decode(text.subarray(at, at + width)));
    at += width;
  }
  return out;
}

export function decodeCardText(text: Buffer): CardText {
  const raw = splitCardText(text);
  return {
    name: raw.name,
    sex: { code: raw.sex, name: SEX_CODES[raw.sex] ?? null },
    nation: { code: raw.nation, name: NATION_CODES[raw.nation] ?? null },
    birthDate: isoDate(raw.birthDate),
    address: raw.address,
    idNumber: raw.idNumber,
    idNumberCheck: checkIdNumber(raw.idNumber),
    authority: raw.authority,
    validFrom: isoDate(raw.validFrom),
    validTo: raw.validTo === LONG_TERM ? LONG_TERM : isoDate(raw.validTo),
    nameHasPrivateUseChars: /[\uE000-\uF8FF]/u.test(raw.name),
  };
}

/** Cards pad with spaces; some writers pad with NULs. */
function trimPadding(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === ' ' || s[end - 1] === '\0')) end--;
  return s.slice(0, end);
}

function isoDate(s: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : s;
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

/** The GB 11643 check character for the first 17 digits of a citizen ID number. */
export function idCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('the check character needs exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number);
  return CHECK_CHARS[sum % 11] as string;
}

export function checkIdNumber(idNumber: string): IdNumberCheck {
  if (!/^\d{17}[\dXx]$/.test(idNumber)) {
    const expected = /^\d{17}/.test(idNumber) ? idCheckCharacter(idNumber.slice(0, 17)) : null;
    return { valid: false, expected, reason: 'not 17 digits followed by a digit or X' };
  }
  const expected = idCheckCharacter(idNumber.slice(0, 17));
  const actual = idNumber[17]!.toUpperCase();
  return actual === expected
    ? { valid: true, expected, reason: null }
    : {
        valid: false,
        expected,
        reason: `check character is ${actual}, the first 17 digits give ${expected}`,
      };
}

/** The ID number as logs and events show it: first 3 and last 4 characters, the rest starred. */
export function maskIdNumber(idNumber: string): string {
  if (idNumber.length <= 7) return '*'.repeat(idNumber.length);
  return idNumber.slice(0, 3) + '*'.repeat(idNumber.length - 7) + idNumber.slice(-4);
}

export type CardTextInput = Record<TextFieldName, string>;

/** Writes raw field values (codes and YYYYMMDD dates, as on the card) into a 256-byte text block. */
export function encodeCardText(fields: CardTextInput): Buffer {
  const out = Buffer.alloc(TEXT_LENGTH, 0);
  // Space-pad the whole block as cards do (UCS-2 LE 0x0020).
  for (let i = 0; i < TEXT_LENGTH; i += 2) out.writeUInt16LE(0x20, i);
  let at = 0;
  for (const [field, width] of TEXT_FIELDS) {
    const value = fields[field];
    if (/[\uD800-\uDFFF]/.test(value)) {
      throw new RangeError(`${field}: UCS-2 cannot hold characters outside the BMP`);
    }
    if (value.length * 2 > width) throw new RangeError(`${field}: "${value}" is longer than ${width / 2}`);
    out.write(value, at, 'utf16le');
    at += width;
  }
  return out;
}
