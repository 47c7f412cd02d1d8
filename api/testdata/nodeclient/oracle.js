// Drives voxrun's REST API with @jambonz/node-client, a client nobody at
// voxrun wrote. The Go test (api/nodeclient_test.go) starts the server and
// passes its address and an account's credentials in the environment; this
// script prints one JSON line with what the client saw, or exits non-zero.
'use strict';
const jambonz = require('@jambonz/node-client');

const {VOXRUN_BASE_URL, VOXRUN_ACCOUNT_SID, VOXRUN_API_KEY} = process.env;

async function main() {
  const client = jambonz(VOXRUN_ACCOUNT_SID, VOXRUN_API_KEY, {baseUrl: VOXRUN_BASE_URL});
  const sid = await client.applications.create({
    name: 'node-client oracle',
    call_hook: {url: 'https://example.com/call', method: 'POST', username: 'user', password: 'pass'},
    call_status_hook: {url: 'https://example.com/status', method: 'POST'},
    messaging_hook: {url: 'https://example.com/sms', method: 'POST'},
    speech_synthesis_vendor: 'google',
    speech_synthesis_language: 'en-US',
    speech_recognizer_vendor: 'google',
    speech_recognizer_language: 'en-US',
  });
  const list = await client.applications.list();
  const one = await client.applications.retrieve(sid);
  await client.applications.update(sid, {name: 'renamed by node-client'});
  const renamed = await client.applications.retrieve(sid);

  let missing = null;
  try {
    await client.applications.retrieve('00000000-0000-4000-8000-000000000000');
  } catch (err) {
    missing = err.message;
  }
  const second = await client.applications.create({name: 'to delete'});
  await client.applications.delete(second);
  const after = await client.applications.list();

  process.stdout.write(JSON.stringify({sid, list, one, renamed: renamed.name, missing, after}) + '\n');
}

main().catch((err) => {
  process.stderr.write(`oracle failed: ${err.stack || err}\n`);
  if (err.statusCode) process.stderr.write(`status ${err.statusCode}\n`);
  process.exit(1);
});
