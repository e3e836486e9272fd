// IEEE 1284 Device ID strings ("MFG:EPSON;MDL:LQ-630K;CMD:ESCPL2,BDC;CLS:PRINTER;"), as printers report
// them over USB (GET_DEVICE_ID) and as Linux shows them in sysfs (`ieee1284_id`).

export interface Ieee1284Id {
  manufacturer?: string;
  model?: string;
  commandSet: string[];
  serial?: string;
  raw: string;
}

export function parseIeee1284Id(raw: string): Ieee1284Id {
  const fields = new Map<string, string>();
  for (const part of raw.split(';')) {
    const i = part.indexOf(':');
    if (i > 0) fields.set(part.slice(0, i).trim().toUpperCase(), part.slice(i + 1).trim());
  }
  const pick = (...keys: string[]): string | undefined => keys.map((k) => fields.get(k)).find((v) => v);
  const cmd = pick('CMD', 'COMMAND SET');
  const manufacturer = pick('MFG', 'MANUFACTURER');
  const model = pick('MDL', 'MODEL');
  const serial = pick('SN', 'SERN', 'SERIALNUMBER');
  return {
    ...(manufacturer ? { manufacturer } : {}),
    ...(model ? { model } : {}),
    ...(serial ? { serial } : {}),
    commandSet: cmd ? cmd.split(',').map((c) => c.trim()) : [],
    raw,
  };
}

/** USB GET_DEVICE_ID data: a 2-byte big-endian length (including itself), then the ID string. */
export function parseDeviceIdReply(data: Buffer): Ieee1284Id {
  const len = Math.min(data.length, data.length >= 2 ? data.readUInt16BE(0) : 0);
  return parseIeee1284Id(data.subarray(2, Math.max(2, len)).toString('latin1'));
}
