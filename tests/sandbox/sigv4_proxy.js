#!/usr/bin/env node
// A reverse proxy in front of s3rver that recomputes every request's AWS
// SigV4 signature with AWS's own signer (@smithy/signature-v4) and refuses
// any mismatch with S3's SignatureDoesNotMatch, since s3rver itself accepts
// any signature.  Test-only.
//
// usage: sigv4_proxy.js LISTEN_PORT UPSTREAM_PORT ACCESS_KEY SECRET_KEY LOGFILE
'use strict';
const http = require('http');
const fs = require('fs');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

const [listenPort, upstreamPort, accessKey, secretKey, logFile] = process.argv.slice(2);
const log = (line) => fs.appendFileSync(logFile, line + '\n');

function refuse(res, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message></Error>`;
  res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function check(req, body) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed SigV4 Authorization header';
  const [, ak, , region, signedHeaders, signature] = m;
  if (ak !== accessKey) return `unknown access key ${ak}`;
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate) return 'no x-amz-date header';
  const payload = req.headers['x-amz-content-sha256'];
  if (!payload) return 'no x-amz-content-sha256 header';
  if (payload !== 'UNSIGNED-PAYLOAD') {
    const actual = require('crypto').createHash('sha256').update(body).digest('hex');
    if (actual !== payload) return `x-amz-content-sha256 ${payload} does not match the body (${actual})`;
  }
  const url = new URL(req.url, 'http://placeholder');
  // The path as sent: URL() would resolve "." and ".." segments, which S3
  // keys may hold and S3 does not resolve.
  const rawPath = req.url.split('?')[0];
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const headers = {};
  const names = signedHeaders.split(';');
  for (const n of names) {
    if (req.headers[n] === undefined) return `signed header ${n} is missing`;
    headers[n] = String(req.headers[n]);
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    region, service: 's3', sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false, applyChecksum: false,
  });
  const d = amzDate;
  const signingDate = new Date(Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8),
    +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15)));
  const signed = await signer.sign({
    method: req.method, protocol: 'http:', hostname: headers.host || 'localhost',
    path: rawPath, query, headers, body,
  }, { signingDate, signableHeaders: new Set(names) });
  const got = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  if (got !== signature) return `signature mismatch for ${req.method} ${req.url}`;
  return null;
}

// FAIL_MATCH=regex: refuse matching requests (AccessDenied), to test how
// ferry cleans up after a failed upload.
const failMatch = process.env.FAIL_MATCH ? new RegExp(process.env.FAIL_MATCH) : null;
// FAIL_ONCE=regex: answer the first matching request 503 SlowDown (retryable).
const failOnce = process.env.FAIL_ONCE ? new RegExp(process.env.FAIL_ONCE) : null;
let failedOnce = false;
// FAIL_MIDWAY=regex: cut the first matching request's answer after half of
// its body (a broken connection), to test how ferry resumes a download.
const failMidway = process.env.FAIL_MIDWAY ? new RegExp(process.env.FAIL_MIDWAY) : null;
let cutOnce = false;
// DELAY_MS=n: answer every request n ms late, as a distant server would
// (benchmarks: what one round trip per request costs).
const delayMs = +(process.env.DELAY_MS || 0);

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const body = Buffer.concat(chunks);
    let why;
    try { why = await check(req, body); } catch (e) { why = `signer error: ${e.message}`; }
    if (why) {
      log(`REFUSED ${req.method} ${req.url}: ${why}`);
      return refuse(res, 'SignatureDoesNotMatch', why);
    }
    if (failMatch && failMatch.test(`${req.method} ${req.url}`)) {
      log(`FAILED-ON-PURPOSE ${req.method} ${req.url}`);
      return refuse(res, 'AccessDenied', 'refused by FAIL_MATCH');
    }
    if (failOnce && !failedOnce && failOnce.test(`${req.method} ${req.url}`)) {
      failedOnce = true;
      log(`FAILED-ONCE ${req.method} ${req.url}`);
      const body = '<Error><Code>SlowDown</Code><Message>try again</Message></Error>';
      res.writeHead(503, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
      return res.end(body);
    }
    log(`OK ${req.method} ${req.url}${req.headers.range ? ` (${req.headers.range})` : ''}`);
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method,
      path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      if (failMidway && !cutOnce && failMidway.test(`${req.method} ${req.url}`)) {
        cutOnce = true;
        const half = Math.floor(+(ur.headers['content-length'] || 0) / 2);
        let sent = 0;
        log(`CUT-MIDWAY ${req.method} ${req.url} after ${half} bytes`);
        ur.on('data', (c) => {
          if (sent >= half) return;
          const part = c.subarray(0, half - sent);
          res.write(part);
          sent += part.length;
          if (sent >= half) { res.socket.destroy(); ur.destroy(); }
        });
        return;
      }
      ur.pipe(res);
    });
    up.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    up.end(body);
  });
}).listen(+listenPort, '127.0.0.1');
