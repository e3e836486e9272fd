// USB printers. /dev/usb/lpN: a real FIFO stands in for the usblp node (real kernel pipe, real blocking
// writes) with a sysfs-shaped directory holding the IEEE 1284 Device ID. libusb: there is no USB printer on
// this machine (nor on CI), so the `usb` package is replaced by a MOCK of the few usb@2 calls the transport
// makes; the protocol on top (GET_DEVICE_ID, GET_PORT_STATUS, bulk OUT of the ESC/P stream) is real.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { printerKind } from '../../agent/kinds/printer.js';
import { withDeviceDefaults } from '../../config/schema.js';
import { DEFAULT_SETUP, encodeDocument } from '../../drivers/printer/forms.js';
import { EscpLinkPrinter } from '../../drivers/printer/link-printer.js';
import { PrinterSimulatorEndpoint } from '../../drivers/printer/simulator-endpoint.js';
import { VirtualPrinter } from '../../drivers/printer/virtual-printer.js';
import { parseIeee1284Id } from '../../drivers/transport/ieee1284.js';
import { openUsbPrinter, type UsbBinding, type UsbDeviceLike } from '../../drivers/transport/usb-printer.js';
import { removeDir, tempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ID = 'MFG:EPSON;CMD:ESCPL2,BDC,D4;MDL:LQ-630K;CLS:PRINTER;SN:LQ7788;';

async function form(): Promise<Buffer> {
  const doc = {
    page: { size: 'A4' as const },
    copies: 1,
    items: [
      {
        type: 'text' as const,
        xMm: 20,
        yMm: 30,
        text: '张三 ZHANG San',
        sizePt: 12,
        bold: false,
        doubleWidth: false,
        overflow: 'error' as const,
      },
    ],
  };
  return (await encodeDocument(doc, DEFAULT_SETUP)).bytes;
}

describe('IEEE 1284 Device ID', () => {
  it('parses maker, model, command set and serial', () => {
    const id = parseIeee1284Id(ID);
    expect(id).toMatchObject({ manufacturer: 'EPSON', model: 'LQ-630K', serial: 'LQ7788' });
    expect(id.commandSet).toEqual(['ESCPL2', 'BDC', 'D4']);
  });
});

describe('printer on /dev/usb/lpN (a FIFO here)', () => {
  it('identifies the printer from sysfs and prints through the device node', async () => {
    const dir = tempDir();
    cleanups.push(() => removeDir(dir));
    const node = join(dir, 'lp0');
    execFileSync('mkfifo', [node]);
    const sysfs = join(dir, 'sys');
    mkdirSync(join(sysfs, 'class', 'usbmisc', 'lp0', 'device'), { recursive: true });
    writeFileSync(join(sysfs, 'class', 'usbmisc', 'lp0', 'device', 'ieee1284_id'), ID + '\n');
    const sim = PrinterSimulatorEndpoint.file(node, { setup: DEFAULT_SETUP });
    const driver = printerKind.createDriver(
      withDeviceDefaults({
        id: 'lp',
        kind: 'printer',
        transport: { type: 'usblp', path: node, sysfsRoot: sysfs },
      }),
    );
    cleanups.push(
      () => sim.close(),
      () => driver.close(),
    );
    const identity = await driver.open();
    expect(identity).toEqual({ model: `EPSON LQ-630K (usblp ${node})`, serial: 'LQ7788' });
    await driver.print(await form());
    await waitFor('the page', () => sim.printer.pages.length === 1);
    expect(sim.printer.pages[0]!.cells.map((c) => c.ch).join('')).toBe('张三ZHANGSan');
  });
});

/** A MOCK USB printer (no hardware here): answers the printer-class requests, feeds bulk OUT to paper. */
function mockUsbPrinter(paper: VirtualPrinter) {
  const state = { paperEmpty: false, detached: false, claimed: false, resets: 0 };
  const device: UsbDeviceLike = {
    open: () => undefined,
    close: () => undefined,
    interfaces: [
      {
        descriptor: { bInterfaceClass: 7, bInterfaceNumber: 0, bAlternateSetting: 0 },
        endpoints: [
          {
            direction: 'out',
            transferType: 2,
            timeout: 0,
            transfer(buffer, callback) {
              paper.accept(buffer);
              setImmediate(() => callback(undefined, buffer.length));
            },
          },
        ],
        isKernelDriverActive: () => !state.detached,
        detachKernelDriver: () => void (state.detached = true),
        claim: () => void (state.claimed = true),
        release: (_close, callback) => callback(),
      },
    ],
    controlTransfer(type, request, _value, _index, data, callback) {
      if (type === 0xa1 && request === 0x00) {
        const reply = Buffer.alloc(2 + ID.length);
        reply.writeUInt16BE(reply.length, 0);
        reply.write(ID, 2, 'latin1');
        setImmediate(() => callback(undefined, reply.subarray(0, typeof data === 'number' ? data : 0)));
      } else if (type === 0xa1 && request === 0x01) {
        setImmediate(() => callback(undefined, Buffer.from([0x18 | (state.paperEmpty ? 0x20 : 0)])));
      } else if (type === 0x21 && request === 0x02) {
        state.resets++;
        setImmediate(() => callback(undefined, 0));
      } else setImmediate(() => callback(new Error('LIBUSB_ERROR_PIPE'), undefined));
      return undefined;
    },
  };
  const binding: UsbBinding = {
    findByIds: (vid, pid) => (vid === 0x04b8 && pid === 0x0005 ? device : undefined),
  };
  return { state, binding };
}

describe('USB printer class over libusb (mocked USB device)', () => {
  it('detaches usblp, reads the Device ID and port status, and sends the job on bulk OUT', async () => {
    const paper = new VirtualPrinter({ setup: DEFAULT_SETUP, widthDots: 1735 });
    const { state, binding } = mockUsbPrinter(paper);
    const driver = new EscpLinkPrinter({
      open: () => openUsbPrinter({ vendorId: 0x04b8, productId: 0x0005 }, binding),
      describe: 'usb 04b8:0005',
      setup: DEFAULT_SETUP,
    });
    cleanups.push(() => driver.close());
    expect(await driver.open()).toEqual({ model: 'EPSON LQ-630K (usb 04b8:0005)', serial: 'LQ7788' });
    expect(state).toMatchObject({ detached: true, claimed: true });
    expect((await driver.status()).state).toBe('ready');
    state.paperEmpty = true;
    expect(await driver.status()).toEqual({ state: 'paper-out', detail: 'printer reports paper empty' });
    state.paperEmpty = false;
    await driver.print(await form());
    expect(paper.pages).toHaveLength(1);
    expect(paper.pages[0]!.cells[0]!.ch).toBe('张');
  });

  it('reports a missing USB printer as absent', async () => {
    const { binding } = mockUsbPrinter(new VirtualPrinter({ setup: DEFAULT_SETUP, widthDots: 100 }));
    await expect(openUsbPrinter({ vendorId: 0x04b8, productId: 0x9999 }, binding)).rejects.toThrow(
      /no USB device 04b8:9999/,
    );
  });
});
