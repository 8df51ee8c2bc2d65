// A complete kelvin installation for the browser test, made the way tests/integration/installation.cpp
// makes one: a fresh PKI from `kelvinctl pki init` in a temporary directory, a gateway.toml on
// loopback with an ephemeral HTTPS port (read back from gateway-stats.json, "http"."port") and a
// free broker port, and the real kelvin-gateway with its managed Mosquitto. Devices post their
// readings over HTTPS with their own certificates (Node's TLS client, checking the gateway's
// certificate against the CA).

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoDir = path.resolve(webDir, '..');
export const distDir = path.join(webDir, 'dist');
// Where kelvin-gateway and kelvinctl are: ctest passes the build's bin directory.
export const binDir = process.env.KELVIN_BIN_DIR ?? path.join(repoDir, 'build', 'debug', 'bin');

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws `what`).
export async function waitFor(what, probe, timeoutMs = 30_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export async function freeTcpPort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

export class Installation {
  // `config`: TOML appended to gateway.toml, e.g. an [alerts] table with its rules.
  static async create({ config = '' } = {}) {
    const installation = new Installation(await mkdtemp(path.join(os.tmpdir(), 'kelvin-web-e2e-')));
    await installation.init({ config });
    return installation;
  }

  constructor(root) {
    this.root = root;
    this.stateDir = path.join(root, 'state');
    this.pkiDir = path.join(this.stateDir, 'pki');
    this.configFile = path.join(root, 'gateway.toml');
    this.caFile = path.join(this.pkiDir, 'ca.crt');
    this.gateway = null;
    this.stdout = '';
    this.stderr = '';
  }

  async init({ config = '' } = {}) {
    await mkdir(this.stateDir, { recursive: true });
    await chmod(this.stateDir, 0o700);
    this.kelvinctl(['pki', '--dir', this.pkiDir, 'init']);
    this.brokerPort = await freeTcpPort();
    // The shape of installation.cpp's config, with web_root at the freshly built dashboard.
    await writeFile(
      this.configFile,
      [
        `state_dir = "${this.stateDir}"`,
        '[http]',
        'bind = "127.0.0.1"',
        'port = 0',
        `web_root = "${distDir}"`,
        '[broker]',
        'bind = "127.0.0.1"',
        `port = ${this.brokerPort}`,
        'host = "localhost"',
        config,
        '',
      ].join('\n'),
    );
  }

  // kelvinctl <args>; throws with its output on a non-zero exit.
  kelvinctl(args) {
    const result = spawnSync(path.join(binDir, 'kelvinctl'), args, {
      encoding: 'utf8',
      env: { ...process.env, KELVIN_STATE_DIR: this.stateDir, KELVIN_PKI_DIR: this.pkiDir },
      timeout: 60_000,
    });
    if (result.status !== 0) {
      throw new Error(`kelvinctl ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}${result.error ?? ''}`);
    }
    return result.stdout;
  }

  issueDevice(id) {
    this.kelvinctl(['pki', '--dir', this.pkiDir, 'issue', 'device', id]);
    const dir = path.join(this.pkiDir, 'devices', id);
    return { id, cert: path.join(dir, `${id}.crt`), key: path.join(dir, `${id}.key`) };
  }

  // Adds a user with kelvinctl and returns its generated password.
  addUser(name, role) {
    return JSON.parse(this.kelvinctl(['user', 'add', name, '--role', role, '--json', '--state-dir', this.stateDir]))
      .password;
  }

  async stats() {
    try {
      return JSON.parse(await readFile(path.join(this.stateDir, 'gateway-stats.json'), 'utf8'));
    } catch {
      return null;
    }
  }

  // Starts kelvin-gateway; resolves once its ingest is connected and its HTTPS port is known, with
  // the first admin's password from its standard output.
  async startGateway() {
    const program = process.env.KELVIN_GATEWAY ?? path.join(binDir, 'kelvin-gateway');
    this.gateway = spawn(program, ['--config', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    // A test process that ends without its after() hook (an uncaught error) takes the gateway
    // with it; its Mosquitto follows the gateway (parent-death signal).
    const gateway = this.gateway;
    process.once('exit', () => gateway.kill('SIGKILL'));
    this.gateway.stdout.setEncoding('utf8').on('data', (text) => (this.stdout += text));
    this.gateway.stderr.setEncoding('utf8').on('data', (text) => (this.stderr += text));
    this.exited = once(this.gateway, 'exit');
    let exitCode = null;
    this.exited.then(([code, signal]) => (exitCode = code ?? signal));
    const stats = await waitFor(
      'kelvin-gateway to connect to its broker and listen on HTTPS',
      async () => {
        if (exitCode !== null) throw new Error(`kelvin-gateway exited (${exitCode}):\n${this.log()}`);
        const s = await this.stats();
        return s && s.connected === 1 && s.http?.port > 0 ? s : null;
      },
      60_000,
    );
    this.httpPort = stats.http.port;
    this.origin = `https://localhost:${this.httpPort}`;
    const match = await waitFor('the first admin password on stdout', () =>
      this.stdout.match(/password\s+([a-z2-7]{5}(?:-[a-z2-7]{5}){3})/),
    );
    this.adminPassword = match[1];
  }

  log() {
    return `---- kelvin-gateway stdout ----\n${this.stdout}\n---- stderr ----\n${this.stderr}`;
  }

  // An HTTPS request to the gateway, verifying its certificate against the installation's CA.
  async request(method, urlPath, { body, headers = {}, device } = {}) {
    const ca = await readFile(this.caFile);
    const tls = device ? { cert: await readFile(device.cert), key: await readFile(device.key) } : {};
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: 'localhost', port: this.httpPort, method, path: urlPath, ca, ...tls, headers, agent: false },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer in 30 s`)));
      req.on('error', reject);
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  // Posts `readings` ({seq, ts, temperature, humidity}) as one batch from `device`; returns the ack.
  async postReadings(device, readings) {
    const batch = readings.map((r) => ({
      seq: r.seq,
      ts: r.ts,
      values: { temperature: r.temperature, humidity: r.humidity },
    }));
    const answer = await this.request('POST', `/api/v1/devices/${device.id}/telemetry`, {
      device,
      body: JSON.stringify({ batch }),
      headers: { 'Content-Type': 'application/json' },
    });
    if (answer.status !== 200) throw new Error(`telemetry of ${device.id}: ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body);
  }

  // SIGTERM, then SIGKILL after 20 s; the managed Mosquitto follows the gateway (parent-death signal).
  async stopGateway() {
    if (!this.gateway || this.gateway.exitCode !== null || this.gateway.signalCode !== null) return;
    this.gateway.kill('SIGTERM');
    const killer = setTimeout(() => this.gateway.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(killer);
  }

  async remove() {
    await this.stopGateway();
    await rm(this.root, { recursive: true, force: true });
  }
}
