// Fleet-only operations on the agent itself: install a signed release (`agent.update`), restart
// (`agent.restart`) and read the service's journal (`logs.tail`). Over MQTT only and always signed by a fleet
// key, whatever `mqtt.signing.required` says; the key's role needs the admin scope.
import { Type } from '@sinclair/typebox';
import { JournalError, readJournalRecords, SERVICE_UNIT } from '../lifecycle/journal.js';
import { t, verbatim } from '../messages/text.js';
import { Problem } from '../problems/problem.js';
import type { Services } from '../services.js';
import { VERSION_RE } from '../update/releases.js';
import type { UpdateService } from '../update/update-service.js';
import { defineOperation } from './operation.js';

function updates(services: Services): UpdateService {
  if (!services.updates) throw new Problem('not-ready', t`updates are handled by the running daemon only`);
  return services.updates;
}

export const agentUpdate = defineOperation({
  name: 'agent.update',
  summary:
    'Installs a signed release: answers at once (accepted), then downloads (resuming), checks its sha256 and release signature, backs up the state, unpacks it beside the running one and restarts into it; rolled back by itself unless it reports healthy in update.healthTimeoutSeconds. Progress: `update.job` events.',
  scope: 'admin',
  risk: 'config',
  alwaysSigned: true,
  problems: ['update-in-progress', 'downgrade-refused', 'bad-release-signature', 'payload-too-large'],
  input: Type.Object(
    {
      version: Type.String({ pattern: VERSION_RE.source, description: 'The release version (x.y.z[-tag])' }),
      url: Type.String({ pattern: '^https?://', maxLength: 2048, description: 'Where the box downloads it' }),
      sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'sha256 of the tarball, hex' }),
      size: Type.Integer({ minimum: 1, description: 'Size of the tarball in bytes' }),
      releaseKeyId: Type.String({
        pattern: '^[A-Za-z0-9._-]{1,64}$',
        description: 'A key of update.releaseKeys',
      }),
      releaseSignature: Type.String({
        maxLength: 200,
        description: 'base64 Ed25519 signature over `boxagent-release-v1\\n<version>\\n<sha256>\\n<size>`',
      }),
      force: Type.Optional(
        Type.Boolean({ description: 'Install even when not newer than the running version (still signed)' }),
      ),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    updateId: Type.String({ description: 'The `job` of the `update.job` events that follow' }),
    state: Type.Literal('accepted'),
  }),
  handler(input, { services, principal }) {
    return updates(services).begin(input, principal.name);
  },
});

/** Long enough for the reply to leave before the link closes. */
const RESTART_DELAY_MS = 300;

export const agentRestart = defineOperation({
  name: 'agent.restart',
  summary:
    'Restarts the agent: replies, stops gracefully and exits non-zero so that systemd (Restart=on-failure) starts it again.',
  scope: 'admin',
  risk: 'config',
  alwaysSigned: true,
  input: Type.Object(
    { reason: Type.Optional(Type.String({ maxLength: 200, description: 'For the log and the audit' })) },
    { additionalProperties: false },
  ),
  output: Type.Object({ restarting: Type.Literal(true), version: Type.String() }),
  handler(input, { services, principal }) {
    const u = updates(services);
    services.store.audit.append({
      actor: principal.name,
      action: 'agent.restart',
      target: services.config.box.id,
      detail: { reason: input.reason ?? null },
    });
    setTimeout(() => u.restart(input.reason ?? 'agent.restart'), RESTART_DELAY_MS).unref();
    return { restarting: true as const, version: services.version };
  },
});

/** The units logs.tail may read: the agent's own, not the rest of the machine. */
const LOG_UNITS = [SERVICE_UNIT, 'boxagent-backup'] as const;

export const logsTail = defineOperation({
  name: 'logs.tail',
  summary:
    "The newest lines of the agent's journal (journalctl), oldest first, as the daemon logged them. Device errors and paths can name residents' documents, hence personal-data.",
  scope: 'admin',
  risk: 'personal-data',
  alwaysSigned: true,
  problems: ['journal-unavailable'],
  input: Type.Object(
    {
      lines: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }),
      since: Type.Optional(
        Type.String({
          pattern: '^[0-9A-Za-z :+.-]{1,40}$',
          description: 'From this time on, as journalctl takes it ("2026-05-01 08:00", "1 hour ago")',
        }),
      ),
      unit: Type.Union(
        LOG_UNITS.map((u) => Type.Literal(u)),
        { default: SERVICE_UNIT },
      ),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    lines: Type.Array(
      Type.Object({
        time: Type.String(),
        level: Type.String(),
        component: Type.String(),
        msg: Type.String(),
        fields: Type.Record(Type.String(), Type.Unknown()),
      }),
    ),
  }),
  async handler(input) {
    try {
      const records = await readJournalRecords({ unit: input.unit, lines: input.lines, since: input.since });
      return {
        lines: records.map(({ time, level, component, msg, fields }) => ({
          time,
          level,
          component,
          msg,
          fields,
        })),
      };
    } catch (err) {
      if (err instanceof JournalError) throw new Problem('journal-unavailable', verbatim(err.message));
      throw err;
    }
  },
});
