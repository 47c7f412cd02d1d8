// Prints, as one JSON array, the verdict of @jambonz/schema's callback schemas
// on hook payloads. Each argument is <callback>=<file>, where <callback> names
// a schema under @jambonz/schema/callbacks (call-status, gather, ...).
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

const root = path.dirname(require.resolve('@jambonz/schema/package.json'));
const ajv = new Ajv({allErrors: false, strict: false, validateSchema: false, logger: false});
for (const dir of ['components', 'callbacks']) {
  for (const f of fs.readdirSync(path.join(root, dir))) {
    if (f.endsWith('.schema.json')) {
      ajv.addSchema(JSON.parse(fs.readFileSync(path.join(root, dir, f), 'utf8')));
    }
  }
}
const out = [];
for (const arg of process.argv.slice(2)) {
  const i = arg.indexOf('=');
  const callback = arg.slice(0, i);
  const file = arg.slice(i + 1);
  const validate = ajv.getSchema(`https://jambonz.org/schema/callbacks/${callback}`);
  if (!validate) {
    out.push({file, valid: false, error: `unknown callback schema ${callback}`});
    continue;
  }
  const valid = validate(JSON.parse(fs.readFileSync(file, 'utf8')));
  out.push({file, valid, error: valid ? undefined : ajv.errorsText(validate.errors)});
}
process.stdout.write(JSON.stringify(out) + '\n');
