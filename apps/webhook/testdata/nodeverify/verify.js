// A webhook app that checks every request with jambonz's own verifier,
// WebhookResponse.verifyJambonzSignature from @jambonz/node-client, the way
// jambonz apps use it: as middleware after express.json() (req.body is the
// parsed object, re-stringified by the verifier) and after express.raw()
// (req.body is the Buffer as received). Both must pass.
//
// VERIFY_SECRET is the secret the app expects. It listens on 127.0.0.1, prints
// {"port": N} on stdout, and exits when stdin closes.
// A verified request gets 200 with a verb document whose tag names the case;
// a refused one gets 403 {"case", "raw", "parsed"} with the verifier's errors.
'use strict';
const http = require('http');
const {WebhookResponse} = require('@jambonz/node-client');

const secret = process.env.VERIFY_SECRET;
if (!secret) {
  console.error('VERIFY_SECRET is required');
  process.exit(2);
}
const verify = WebhookResponse.verifyJambonzSignature(secret);

function check(req, body) {
  const like = {url: req.url, body, get: (h) => req.headers[h.toLowerCase()]};
  try {
    let passed = false;
    verify(like, null, () => { passed = true; });
    return passed ? null : 'next() was not called';
  } catch (err) {
    return err.message;
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    let parsedErr;
    try {
      parsedErr = check(req, JSON.parse(raw.toString('utf8')));
    } catch (err) {
      parsedErr = 'body is not JSON: ' + err.message;
    }
    const rawErr = check(req, raw);
    const name = req.url;
    if (parsedErr || rawErr) {
      console.error(JSON.stringify({case: name, raw: rawErr, parsed: parsedErr, bytes: raw.length}));
      res.writeHead(403, {'Content-Type': 'application/json'});
      res.end(JSON.stringify({case: name, raw: rawErr, parsed: parsedErr, bytes: raw.length}));
      return;
    }
    res.writeHead(200, {'Content-Type': 'application/json'});
    res.end(JSON.stringify([{verb: 'tag', data: {verified: name, bytes: raw.length}}]));
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({port: server.address().port}) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
