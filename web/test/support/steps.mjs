// What the browser tests share besides the installation and the browser: a test step whose failure
// carries the end of the gateway's output, and the authenticator app (Debian's oathtool).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// Returns step(name, body): a node:test test that, when it fails, appends the last 6,000
// characters of the log of installationOf() (called then: the installation is made in before()).
export function stepsWithGatewayLog(installationOf) {
  return (name, body) =>
    test(name, async () => {
      try {
        await body();
      } catch (error) {
        error.message += `\n${installationOf()?.log().slice(-6000) ?? ''}`;
        throw error;
      }
    });
}

// The current TOTP code for a base32 secret, as an authenticator app would show it.
export function totp(secret) {
  const result = spawnSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' });
  assert.equal(result.status, 0, `oathtool: ${result.stderr}`);
  return result.stdout.trim();
}
