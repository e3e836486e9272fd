// The "Agent updates" section of docs/mqtt.md: how `agent.update` goes, the release signature and the
// rollback, in the contract's words (the operations themselves are listed with the others).
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { releaseSignedBytes, signRelease } from '../update/release-signing.js';

export function renderUpdates(root: string): string[] {
  // A fixed example key (an Ed25519 seed of 32 sevens): the docs stay the same at every generation.
  const seed = Buffer.alloc(32, 7);
  const fixed = pkcs8FromSeed(seed);
  const facts = { version: '1.4.0', sha256: 'ab'.repeat(32), size: 73400320 };
  return [
    '## Agent updates',
    '',
    `\`${root}/rpc/agent.update\` installs a release the box downloads from the county's HTTP(S) server. The`,
    'request is always signed by a fleet key whose role has `admin` (whatever `mqtt.signing.required` says), and',
    'the release itself is signed by a **release key** the box trusts in `update.releaseKeys.<id>.publicKey`',
    '(Ed25519: base64 of the 32 raw bytes, or PEM). The release signature covers these lines joined with `\\n`',
    "(no newline at the end): `boxagent-release-v1`, the version, the tarball's lowercase hex SHA-256, its size",
    'in bytes. For example, signing',
    '',
    '```',
    releaseSignedBytes(facts).toString('utf8'),
    '```',
    '',
    `with the key whose 32-byte seed is \`${seed.toString('hex')}\` gives \`${signRelease(fixed, facts)}\`.`,
    '',
    'Checked before anything is downloaded, each refusal an error reply: another update under way (or this',
    'version still on trial) `update-in-progress`; `size` above `update.maxBytes` `payload-too-large`; a',
    'release signature that does not hold `bad-release-signature`; a version not newer than the running one',
    '`downgrade-refused` unless `force: true`. Otherwise the reply is at once `{"updateId", "state":',
    '"accepted"}` and the job reports itself as `update.job` events (`job` = the updateId):',
    '',
    '| state | what happened |',
    '| --- | --- |',
    '| `accepted` | the request was checked |',
    '| `downloading` | `bytes` of `total` received (at most every 10 % or 5 s); a cut connection is resumed with a Range request, and so is a download an earlier attempt left |',
    '| `verifying` | the size and SHA-256 of the download are checked against the signed ones |',
    '| `installing` | the tarball is unpacked into `releases/<version>/` (absolute names, `..`, links leaving the tree, hard links and devices are refused), then the state backed up (state.db snapshot and key files into `<state dir>/pre-update/`; also a sealed backup into `backup.dir` when `backup.recipient` is set) |',
    '| `restarting` | the trial is recorded, `releases/current` switched atomically, and the agent exits (status 75) for systemd to start the new version |',
    '| `healthy` | sent by the new version once it is ready and connected to the fleet |',
    '| `rolled_back` | sent by the old version after the boot selector switched back: the new one stopped before it reported healthy (`crashed`) or did not within `update.healthTimeoutSeconds` (`unhealthy`) |',
    '| `failed` | with `reasonCode` (`download-failed`, `too-large`, `checksum-mismatch`, `unsafe-archive`, `release-invalid`, `backup-failed`, `install-failed`) and `reason`; the running version stays |',
    '',
    "The rollback is done by the boot selector of the packaged app tree (the launcher's entry), never by code of",
    'the release on trial: each start of the release on trial is counted, and a start that finds an earlier one',
    'unconfirmed switches `current` back first. `agent.restart` (signed) replies, stops gracefully and exits 75;',
    '`logs.tail` (signed, `personal-data`) returns the newest lines of the service journal. See docs/updates.md.',
  ];
}

/** An Ed25519 private key from its 32-byte seed (PKCS#8 DER: a fixed prefix, then the seed). */
function pkcs8FromSeed(seed: Buffer): KeyObject {
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}
