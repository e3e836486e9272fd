// Scheduled backups (`boxagent backup scheduled`, run by systemd/boxagent-backup.timer): where they go, how
// many are kept, and how they are sealed. Unattended, so the secret must be on the box: best a recipient's
// public key (the box then cannot read its own backups), else a passphrase file readable by the service user.
import { Type } from '@sinclair/typebox';

export const BackupSection = Type.Object(
  {
    dir: Type.Optional(
      Type.String({ minLength: 1, description: 'Folder for scheduled backups (none are made when unset)' }),
    ),
    keep: Type.Integer({
      default: 7,
      minimum: 1,
      maximum: 1000,
      description: "Scheduled backups kept in backup.dir; the oldest of this box's are deleted",
    }),
    recipient: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'X25519 public key (PEM) the backups are encrypted for (boxagent backup keygen)',
      }),
    ),
    passphraseFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'File whose first line is the passphrase, when no recipient key is given',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);
