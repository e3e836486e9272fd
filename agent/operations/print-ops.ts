// Print jobs for the counter software: submit (durable, idempotent), inspect, cancel, resolve jobs in
// doubt, and preview a document as the PNG the printer's own bytes decode to.
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../../config/schema.js';
import { ItemSchema, PageSchema, type LayoutDocument } from '../../drivers/printer/document.js';
import { PRINT_JOB_STATES } from '../printing/print-jobs.js';
import { expandTemplate } from '../printing/templates.js';
import type { Services } from '../services.js';
import { BinaryOutput, BinarySchema, defineOperation } from './operation.js';
import { Problem } from '../problems/problem.js';
import { DeviceReasonFields } from '../events/catalog.js';
import { t } from '../messages/text.js';

const JOB_STATES = PRINT_JOB_STATES;

/** A document given inline (page + items) or as a named template with field values. */
const DocumentInput = Type.Object(
  {
    page: Type.Optional(PageSchema),
    items: Type.Optional(Type.Array(ItemSchema, { maxItems: 2000 })),
    template: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'A file in config/templates/' }),
    ),
    fields: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 2000 }))),
    copies: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  },
  {
    additionalProperties: false,
    description: "Either {page, items} or {template, fields}. Positions in mm from the paper's top-left.",
  },
);
type DocumentInputT = Static<typeof DocumentInput>;

const PrintJob = Type.Object({
  id: Type.String(),
  printer: Type.String(),
  state: StringEnum(JOB_STATES),
  bytes: Type.Integer({ description: 'Size of the ESC/P stream' }),
  copies: Type.Integer(),
  template: Type.Union([Type.String(), Type.Null()]),
  submittedBy: Type.String(),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why it failed or is in doubt' }),
  outcome: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const JobId = Type.String({ minLength: 1, maxLength: 64 });

function resolveDocument(d: DocumentInputT): { doc: LayoutDocument; template: string | null } {
  if (d.template !== undefined) {
    if (d.page !== undefined || d.items !== undefined) {
      throw new Problem('invalid-request', t`give either a template or page and items, not both`, [
        'document',
        'template',
      ]);
    }
    return { doc: expandTemplate(d.template, d.fields ?? {}, d.copies), template: d.template };
  }
  if (d.page === undefined) throw new Problem('invalid-request', t`"page" is required`, ['document', 'page']);
  if (d.items === undefined)
    throw new Problem('invalid-request', t`"items" is required`, ['document', 'items']);
  return { doc: { page: d.page, items: d.items, copies: d.copies ?? 1 }, template: null };
}

function service(services: Services) {
  return services.printing;
}

export const submitPrint = defineOperation({
  name: 'print.submit',
  summary: 'Queues a document for a printer; 202 with the job. Progress is on /v1/events (print.job).',
  scope: 'print',
  risk: 'print',
  problems: ['unprintable-document', 'unknown-template'],
  idempotent: true,
  input: Type.Object(
    {
      printer: Type.String({ minLength: 1, maxLength: 64, description: 'Device id' }),
      document: DocumentInput,
    },
    { additionalProperties: false },
  ),
  output: PrintJob,
  http: { method: 'POST', path: '/v1/print-jobs', status: 202 },
  async handler(input, { services, principal, idempotency }) {
    const printing = service(services);
    const { doc, template } = resolveDocument(input.document);
    const { bytes } = await printing.encode(
      input.printer,
      doc,
      template ? ['document', 'template'] : ['document'],
    );
    return printing.submit(
      input.printer,
      bytes,
      { copies: doc.copies ?? 1, template, submittedBy: principal.name },
      idempotency ? (view) => idempotency.save(view) : undefined,
    );
  },
});

export const getPrint = defineOperation({
  name: 'print.get',
  summary: 'One print job.',
  scope: 'read',
  risk: 'print',
  input: Type.Object({ id: JobId }, { additionalProperties: false }),
  output: PrintJob,
  http: { method: 'GET', path: '/v1/print-jobs/:id' },
  handler: (input, { services }) => service(services).get(input.id),
});

export const listPrints = defineOperation({
  name: 'print.list',
  summary: 'Print jobs, newest first, optionally of one state or printer.',
  scope: 'read',
  risk: 'print',
  input: Type.Object(
    {
      state: Type.Optional(StringEnum(JOB_STATES)),
      printer: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ jobs: Type.Array(PrintJob) }),
  http: { method: 'GET', path: '/v1/print-jobs' },
  handler: (input, { services }) => ({
    jobs: service(services).list({
      limit: input.limit,
      ...(input.state ? { state: input.state } : {}),
      ...(input.printer ? { printer: input.printer } : {}),
    }),
  }),
});

export const cancelPrint = defineOperation({
  name: 'print.cancel',
  summary: 'Cancels a queued job; 409 once it is being sent or finished.',
  scope: 'print',
  risk: 'print',
  problems: ['job-state-conflict'],
  input: Type.Object({ id: JobId }, { additionalProperties: false }),
  output: PrintJob,
  http: { method: 'DELETE', path: '/v1/print-jobs/:id' },
  handler: (input, { services, principal }) => service(services).cancel(input.id, principal.name),
});

export const resolvePrint = defineOperation({
  name: 'print.resolve',
  summary: 'Settles a job in doubt: "printed" marks it done, "reprint" queues it again.',
  scope: 'print',
  risk: 'print',
  problems: ['job-state-conflict'],
  // A reprint may put a second copy of an official form into the world.
  riskOf: (params) => (params.outcome === 'reprint' ? 'document' : 'print'),
  input: Type.Object(
    { id: JobId, outcome: StringEnum(['printed', 'reprint'] as const) },
    { additionalProperties: false },
  ),
  output: PrintJob,
  http: { method: 'POST', path: '/v1/print-jobs/:id/resolve' },
  // Audited as `print.resolve` by the job engine, in the transaction of the move.
  handler: (input, { services, principal }) =>
    service(services).resolve(input.id, input.outcome, principal.name),
});

export const previewPrint = defineOperation({
  name: 'print.preview',
  summary:
    'A PNG (180 dpi) of what the printer would put on paper: the document is encoded to ESC/P and the bytes decoded.',
  scope: 'print',
  risk: 'print',
  problems: ['unprintable-document', 'unknown-template'],
  input: Type.Object(
    {
      printer: Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Device id (its calibration applies)',
      }),
      document: DocumentInput,
      background: Type.Optional(
        Type.String({ minLength: 1, description: 'A scan of the form (PNG/JPEG, base64)' }),
      ),
    },
    { additionalProperties: false },
  ),
  output: BinarySchema('image/png'),
  http: { method: 'POST', path: '/v1/print-jobs/preview' },
  async handler(input, { services }) {
    const { doc, template } = resolveDocument(input.document);
    const background = input.background === undefined ? undefined : Buffer.from(input.background, 'base64');
    const png = await service(services).preview(
      input.printer,
      doc,
      template ? ['document', 'template'] : ['document'],
      background,
    );
    return new BinaryOutput('image/png', png);
  },
});

/** A printer's queue, as `GET /v1/printers/:id/queue` and the event stream's snapshot show it. */
export const PrintQueueSchema = Type.Object({
  device: Type.String(),
  paused: Type.Boolean({ description: 'True when the queue would not send a job now' }),
  ...DeviceReasonFields,
  length: Type.Integer({ description: 'Jobs queued or being sent' }),
  jobs: Type.Optional(Type.Array(PrintJob)),
});

export const printerQueue = defineOperation({
  name: 'printers.queue',
  summary:
    "A dot-matrix printer's queue: paused or running, why (reason, reasonCode), how many jobs wait and, with ?jobs=true, which.",
  scope: 'read',
  risk: 'read',
  input: Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 64, description: 'The printer (device id)' }),
      jobs: Type.Boolean({ default: false, description: 'Also list the waiting jobs, oldest first' }),
    },
    { additionalProperties: false },
  ),
  output: PrintQueueSchema,
  http: { method: 'GET', path: '/v1/printers/:id/queue' },
  handler: (input, { services }) => service(services).queueStatus(input.id, { jobs: input.jobs }),
});
