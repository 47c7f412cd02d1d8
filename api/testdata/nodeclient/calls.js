// Places a call through voxrun's REST API with @jambonz/node-client and
// redirects it: calls.create to a SIP target with a call hook, waits until
// calls.retrieve says it is in progress, sends an INFO within the call's
// dialog (calls.update with sip_request), then calls.update with a new
// call_hook. The Go test (cmd/voxrun/restcalls_e2e_test.go) runs voxrun, the
// called party (sipp) and the hooks, and passes them in the environment; this
// script prints one JSON line with what the client saw, or exits non-zero.
'use strict';
const jambonz = require('@jambonz/node-client');

const {VOXRUN_BASE_URL, VOXRUN_ACCOUNT_SID, VOXRUN_API_KEY, VOXRUN_TARGET, VOXRUN_HOOKS} = process.env;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const client = jambonz(VOXRUN_ACCOUNT_SID, VOXRUN_API_KEY, {baseUrl: VOXRUN_BASE_URL});
  const sid = await client.calls.create({
    from: '+15550001234',
    to: {type: 'sip', sipUri: VOXRUN_TARGET},
    call_hook: {url: `${VOXRUN_HOOKS}/call`, method: 'POST'},
    call_status_hook: {url: `${VOXRUN_HOOKS}/status`, method: 'POST'},
    tag: {via: 'node-client'},
  });
  let status = null;
  for (let i = 0; i < 200 && status !== 'in-progress'; i++) {
    const call = await client.calls.retrieve(sid);
    status = call && call.call_status;
    if (status !== 'in-progress') await sleep(25);
  }
  if (status !== 'in-progress') throw new Error(`call ${sid} never reached in-progress (last: ${status})`);
  await client.calls.update(sid, {sip_request: {method: 'INFO', content_type: 'application/json', content: '{"x":1}'}});
  await client.calls.update(sid, {call_hook: {url: `${VOXRUN_HOOKS}/redirected`, method: 'POST'}});
  process.stdout.write(JSON.stringify({sid, status}) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
