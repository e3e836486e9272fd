// Agent updates from the fleet (`agent.update`): which release keys the box trusts, how big a release may be,
// and how long a new release has to report healthy before the boot selector rolls it back.
import { Type } from '@sinclair/typebox';

export const UpdateSection = Type.Object(
  {
    releaseKeys: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
      Type.Object(
        {
          publicKey: Type.String({
            minLength: 1,
            description: 'Ed25519 public key: base64 of the 32 raw bytes, or PEM (SPKI)',
          }),
        },
        { additionalProperties: false },
      ),
      {
        default: {},
        description:
          'Release keys, by key id, whose signature a release must carry (boxagent fleet release sign); none: no update is accepted',
      },
    ),
    healthTimeoutSeconds: Type.Integer({
      default: 120,
      minimum: 10,
      maximum: 3600,
      description:
        'How long a new release has to be ready (and connected to the fleet, when one is configured) before it is rolled back',
    }),
    maxBytes: Type.Integer({
      default: 536_870_912,
      minimum: 1024,
      description: 'Largest release tarball downloaded (bytes); a bigger `size` is refused',
    }),
    maxUnpackedBytes: Type.Integer({
      default: 2_147_483_648,
      minimum: 1024,
      description: 'Largest total of the files a release unpacks to (bytes)',
    }),
  },
  { additionalProperties: false, default: {} },
);
