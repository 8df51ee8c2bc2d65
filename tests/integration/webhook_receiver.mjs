// A webhook receiver for integration tests: an HTTPS server on 127.0.0.1 that records every
// request it gets. Node 20, no npm dependencies.
//
//   node webhook_receiver.mjs --cert CERT --key KEY --out FILE --port-file FILE [--fail-first N]
//                             [--hold-first N]
//
// - listens on an ephemeral port with the PEM certificate and key, and once listening writes the
//   port's number to --port-file (through a temporary name and a rename: a reader sees the whole
//   number or no file);
// - appends one JSON line per request to --out, {"method","path","headers","body"}: headers as
//   Node gives them (names lowercased, repeated ones joined), the body as a UTF-8 string; the
//   line is written (appendFileSync) before the answer goes out, so a client that has its answer
//   finds the line;
// - never answers the first --hold-first requests (default 0): they stay open, as with a receiver
//   that hangs, until the client gives up or goes away;
// - answers 500 with a short text to the next --fail-first requests (default 0), then 204;
// - exits with status 0 on SIGTERM or SIGINT.
// Bad arguments or a certificate that cannot be loaded exit with status 2 and a message on stderr.

import fs from 'node:fs';
import https from 'node:https';
import process from 'node:process';
import { parseArgs } from 'node:util';

function fail(message) {
  process.stderr.write(`webhook_receiver: ${message}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      cert: { type: 'string' },
      key: { type: 'string' },
      out: { type: 'string' },
      'port-file': { type: 'string' },
      'fail-first': { type: 'string', default: '0' },
      'hold-first': { type: 'string', default: '0' },
    },
    strict: true,
  }));
} catch (error) {
  fail(error.message);
}
for (const name of ['cert', 'key', 'out', 'port-file']) {
  if (!args[name]) fail(`--${name} is required`);
}
for (const name of ['fail-first', 'hold-first']) {
  if (!/^\d+$/.test(args[name])) fail(`--${name} must be a whole number`);
}
let failuresLeft = Number(args['fail-first']);
let holdsLeft = Number(args['hold-first']);

let server;
try {
  server = https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) });
} catch (error) {
  fail(`cannot use the certificate or key: ${error.message}`);
}

server.on('request', (request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const record = {
      method: request.method,
      path: request.url,
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    fs.appendFileSync(args.out, `${JSON.stringify(record)}\n`);
    if (holdsLeft > 0) {
      holdsLeft -= 1;
      return;
    }
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end('failing on purpose (--fail-first)\n');
      return;
    }
    response.writeHead(204);
    response.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const portFile = args['port-file'];
  const temporary = `${portFile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${server.address().port}\n`);
  fs.renameSync(temporary, portFile);
});

server.on('error', (error) => fail(error.message));

function stop() {
  // Open keep-alive connections would hold close() back; every record is already on disk.
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
