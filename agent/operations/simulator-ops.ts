// POST /v1/devices/:id/simulator: scripts a simulated device at run time (training, tests, a counter team's
// own test runs). One input schema, a union told apart by `action` (default `fault`, as the endpoint took
// before there were other actions); an action the device's kind has no use for is a 400 naming the ones it has.
import { statSync, readdirSync } from 'node:fs';
import { t, verbatim } from '../messages/text.js';
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum, type DeviceKind } from '../../config/schema.js';
import { TEXT_FIELDS } from '../../drivers/idcard/card-text.js';
import { SimulatedIdCardReader } from '../../drivers/idcard/simulated-reader.js';
import { SimulatedCamera } from '../../drivers/camera/simulator.js';
import { SimulatedRatingPad } from '../../drivers/rating-pad/simulated-pad.js';
import { isSimulator, SIMULATOR_FAULTS } from '../../drivers/simulated-device.js';
import type { SupervisedDevice } from '../devices/supervised-device.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { defineOperation } from './operation.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** Characters a field of the card's text block holds (UCS-2: two bytes each). */
const cardChars = (field: (typeof TEXT_FIELDS)[number][0]): number =>
  (TEXT_FIELDS.find(([name]) => name === field)?.[1] ?? 0) / 2;
const Ymd = Type.String({ pattern: '^[0-9]{8}$', description: 'YYYYMMDD' });

const CardSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: cardChars('name') }),
    sex: StringEnum(['0', '1', '2', '9'] as const, { description: 'GB/T 2261.1: 1 男, 2 女' }),
    nation: Type.String({ pattern: '^[0-9]{2}$', description: 'GB 3304 code, 01 = 汉' }),
    birthDate: Ymd,
    address: Type.String({ minLength: 1, maxLength: cardChars('address') }),
    idNumber: Type.String({ pattern: '^[0-9]{17}[0-9Xx]$' }),
    authority: Type.String({ minLength: 1, maxLength: cardChars('authority') }),
    validFrom: Ymd,
    validTo: Type.String({ pattern: '^([0-9]{8}|长期)$', description: 'YYYYMMDD or 长期' }),
    photo: Type.Optional(
      Type.String({
        contentEncoding: 'base64',
        maxLength: 4096,
        description: 'The WLT photo bytes, base64; a stand-in when absent',
      }),
    ),
  },
  { additionalProperties: false, description: "The card's fields as the card holds them (codes, dates)" },
);

const ACTIONS = ['fault', 'card', 'remove-card', 'images', 'press'] as const;
type SimulatorAction = (typeof ACTIONS)[number];

const branch = <const A extends SimulatorAction, P extends Parameters<typeof Type.Object>[0]>(
  action: A,
  props: P,
) => Type.Object({ id: Id, action: Type.Literal(action), ...props }, { additionalProperties: false });

const Branches = [
  branch('fault', {
    fault: StringEnum(SIMULATOR_FAULTS, {
      description: 'offline, unplugged for every kind; paper-out, cover-open, … for printers',
    }),
  }),
  branch('card', { card: CardSchema }),
  branch('remove-card', {}),
  branch('images', {
    path: Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Null()], {
      description: 'A JPEG/PNG file, a folder of *.jpg shown in turn, or null for the test pattern',
    }),
  }),
  branch('press', { key: Type.String({ minLength: 1, maxLength: 16 }) }),
];
type SimulateInput = Static<(typeof Branches)[number]>;

/** Which kinds take which action (`fault` is for every simulated device). */
const ACTION_KINDS: Record<Exclude<SimulatorAction, 'fault'>, DeviceKind> = {
  card: 'idcard',
  'remove-card': 'idcard',
  images: 'camera',
  press: 'rating-pad',
};

function actionsFor(kind: DeviceKind): SimulatorAction[] {
  return ACTIONS.filter((a) => a === 'fault' || ACTION_KINDS[a] === kind);
}

// Typed as the object with `id` (what adapters and the OpenAPI paths read); the `oneOf` and discriminator
// make the validator check the branch `action` names, with `fault` filled in when `action` is absent.
const SimulateInputSchema = Type.Object(
  {
    id: Id,
    action: StringEnum(ACTIONS, { default: 'fault', description: 'What to do; default fault' }),
  },
  { oneOf: Branches, discriminator: { propertyName: 'action' } },
);

export const simulateDevice = defineOperation({
  name: 'devices.simulate',
  summary:
    'Scripts a simulated device (training and tests): a fault for any kind, a card put on or taken off an ID card reader, images for a camera, a key on a rating pad; 409 for real devices.',
  scope: 'admin',
  risk: 'config',
  problems: ['not-simulated'],
  input: SimulateInputSchema,
  output: Type.Object({
    device: Type.String(),
    action: StringEnum(ACTIONS),
    fault: Type.Optional(StringEnum(SIMULATOR_FAULTS)),
  }),
  http: { method: 'POST', path: '/v1/devices/:id/simulator' },
  async handler(raw, { services, principal }) {
    const input = raw as unknown as SimulateInput; // checked against its branch by the validator
    const device = services.devices.get(input.id);
    if (!device) throw new Problem('not-found', t`no device "${input.id}"`, ['id']);
    const driver = device.driver;
    if (!isSimulator(driver)) {
      throw new Problem('not-simulated', t`device "${input.id}" is real hardware`, ['id']);
    }
    const kind = device.config.kind;
    if (input.action !== 'fault' && ACTION_KINDS[input.action] !== kind) {
      throw new Problem(
        'invalid-request',
        t`action "${input.action}" is for simulated ${ACTION_KINDS[input.action]} devices; "${input.id}" is a ${kind}, whose simulator takes: ${actionsFor(kind).join(', ')}`,
        ['action'],
      );
    }
    await apply(input, device, services);
    services.store.audit.append({
      actor: principal.name,
      action: 'device.simulate',
      target: input.id,
      detail: auditDetail(input),
    });
    return {
      device: input.id,
      action: input.action,
      ...(input.action === 'fault' ? { fault: input.fault } : {}),
    };
  },
});

async function apply(input: SimulateInput, device: SupervisedDevice, services: Services): Promise<void> {
  const driver = device.driver;
  switch (input.action) {
    case 'fault': {
      if (!isSimulator(driver)) return;
      if (!driver.faults.includes(input.fault)) {
        throw new Problem(
          'invalid-request',
          t`fault "${input.fault}" does not apply to a ${device.config.kind}; its simulator takes: ${driver.faults.join(', ')}`,
          ['fault'],
        );
      }
      services.devices.simulateFault(input.id, input.fault);
      return;
    }
    case 'card': {
      if (!(driver instanceof SimulatedIdCardReader)) return;
      const { photo, ...text } = input.card;
      driver.presentCard({ text, ...(photo ? { photo: Buffer.from(photo, 'base64') } : {}) });
      return;
    }
    case 'remove-card':
      if (driver instanceof SimulatedIdCardReader) driver.removeCard();
      return;
    case 'images': {
      if (!(driver instanceof SimulatedCamera) || device.config.kind !== 'camera') return;
      const hold = device.config.camera.simulatedHoldSeconds;
      const source = input.path === null ? { kind: 'testsrc' as const } : imagesSource(input.path, hold);
      try {
        await driver.showImages(source);
      } catch (err) {
        throw new Problem(
          'invalid-request',
          t`the camera could not show ${input.path ?? 'the test pattern'}: ${verbatim(err instanceof Error ? err.message : String(err))}`,
          ['path'],
        );
      }
      return;
    }
    case 'press':
      if (driver instanceof SimulatedRatingPad) driver.press(input.key);
      return;
  }
}

/** A still for a file, the folder's *.jpg in turn for a folder; a 400 naming `path` for anything else. */
function imagesSource(
  path: string,
  holdSeconds: number,
): { kind: 'still'; path: string } | { kind: 'folder'; path: string; holdSeconds: number } {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new Problem('invalid-request', t`${path} does not exist on the box`, ['path']);
  }
  if (!isDir) return { kind: 'still', path };
  if (!readdirSync(path).some((f) => f.toLowerCase().endsWith('.jpg'))) {
    throw new Problem('invalid-request', t`${path} holds no *.jpg image`, ['path']);
  }
  return { kind: 'folder', path, holdSeconds };
}

/** What the audit log keeps: never a card's personal data, only that one was put on. */
function auditDetail(input: SimulateInput): Record<string, unknown> {
  switch (input.action) {
    case 'fault':
      return { fault: input.fault };
    case 'images':
      return { action: 'images', path: input.path };
    case 'press':
      return { action: 'press', key: input.key };
    default:
      return { action: input.action };
  }
}
