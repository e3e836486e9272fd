// The config in force, as the fleet sees it (issue 18): which version of the desired config is applied, who
// signed it, the fleet-owned sections it yields, and which local (installer's) keys it overrides. Offered
// over MQTT only, as events.list: the local admin reads the same with `boxagent config show`.
import { Type } from '@sinclair/typebox';
import { defineOperation } from './operation.js';

const Pointers = (description: string) =>
  Type.Array(Type.String({ description: 'JSON Pointer (RFC 6901) into the keyed form' }), { description });
const Sections = (description: string) =>
  Type.Record(Type.String(), Type.Unknown(), {
    description: `${description}; devices keyed by id (\`{"devices": {"printer-1": {…}}, "supervision": {…}}\`)`,
  });

export const getConfig = defineOperation({
  name: 'config.get',
  summary:
    'The fleet config in force: version, signer, the fleet-owned sections it yields, the local ones, and the local keys it overrides.',
  // Device entries can name hosts, paths and camera URLs (an RTSP URL may carry a password): an admin's read,
  // not a viewer's. The fleet gets it with rpcRole admin or a request signed by an admin-role key.
  scope: 'admin',
  risk: 'read',
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    inForce: Type.Integer({
      minimum: 0,
      description: 'The desired config version in force; 0: the local config alone',
    }),
    appliedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    signedBy: Type.Union([Type.String(), Type.Null()], {
      description: 'The key id that signed the version in force',
    }),
    config: Sections('The fleet-owned sections in force'),
    local: Sections(
      "The same sections from the installer's config file (with BOXAGENT_* overrides and defaults)",
    ),
    patch: Type.Union([
      Sections('The desired `config` in force, as signed (an RFC 7386 merge patch)'),
      Type.Null(),
    ]),
    fleetKeys: Pointers('Keys the fleet sets or removes'),
    overridden: Pointers("Local keys the fleet overrides or removes (the installer's value is not used)"),
  }),
  handler(_input, { services }) {
    return services.fleetConfig.view();
  },
});
