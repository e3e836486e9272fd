// Why the seal machine will not stamp, as the clerk reads it in their language: the same words as the
// driver's English message (drivers/seal/status.ts), as catalog texts.
import type { ConditionFailure } from '../../drivers/seal/status.js';
import { t, type Text } from '../messages/text.js';

export function interlockText(failures: readonly ConditionFailure[]): Text {
  return t`seal interlock: ${failures.map(failureText)}`;
}

function failureText(f: ConditionFailure): Text {
  const holds = f.actual === true;
  switch (f.condition) {
    case 'documentPresent':
      return holds ? t`a document is in place` : t`no document is in place`;
    case 'coverClosed':
      return holds ? t`the cover is closed` : t`the cover is open`;
    case 'headHome':
      return holds ? t`the head is home` : t`the head is not home`;
    case 'busy':
      return holds ? t`the machine is busy` : t`the machine is idle`;
    case 'faultCode':
      return t`fault code ${String(f.actual)}`;
  }
}
