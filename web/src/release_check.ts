// A device's release check in words: the verdict its status reports (`release_check`,
// docs/protocol.md "Status") of the signed release timestamp its gateway serves, which tells the
// device whether the gateway withholds updates. The device page shows the sentence; the fleet table
// marks a device whose verdict is anything but `current`, with the sentence as the marker's title.
// Pure (no DOM), unit-tested in test/model.test.mjs.

export interface ReleaseCheckSummary {
  text: string;
  // ok: `current`; warn: any other code, known or not; none: not reported.
  level: 'ok' | 'warn' | 'none';
}

const SIGN_AND_PUBLISH = 'Sign a new timestamp (kelvinctl release timestamp) and publish it.';

// Every code docs/protocol.md lists but `current`. A device may send codes added after this
// dashboard was built: those are shown as the code itself.
const WARNINGS: Record<string, string> = {
  timestamp_expired:
    'The newest release timestamp this gateway serves has expired: the device cannot tell whether updates ' +
    `are withheld. ${SIGN_AND_PUBLISH}`,
  timestamp_rolled_back:
    'This gateway served a release timestamp older than one the device saw before (a gateway restored from ' +
    `an old backup, or one withholding updates). ${SIGN_AND_PUBLISH}`,
  timestamp_missing:
    "This gateway serves no release timestamp for the device's product: the device cannot tell whether " +
    `updates are withheld. ${SIGN_AND_PUBLISH}`,
  timestamp_invalid:
    'The release timestamp this gateway serves is not valid for the device: not signed by the release key ' +
    'it trusts, malformed, or for another product. Sign one for its product with that key (kelvinctl release ' +
    'timestamp) and publish it.',
  clock_unknown:
    'The device has no trustworthy time yet, so it cannot tell whether the release timestamp has expired. ' +
    'Check that it reaches a time server.',
};

export const RELEASE_CHECK_CURRENT = 'current (signed timestamp checked)';
export const RELEASE_CHECK_NOT_REPORTED = 'not reported';

export function summariseReleaseCheck(code: string | null | undefined): ReleaseCheckSummary {
  if (typeof code !== 'string' || code === '') return { text: RELEASE_CHECK_NOT_REPORTED, level: 'none' };
  if (code === 'current') return { text: RELEASE_CHECK_CURRENT, level: 'ok' };
  return { text: Object.hasOwn(WARNINGS, code) ? WARNINGS[code] : code, level: 'warn' };
}
