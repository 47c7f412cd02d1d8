// Prints, as one JSON array, the verdict of @jambonz/schema's validate() on
// each verb document named on the command line: {file, valid, error}.
'use strict';
const fs = require('fs');
const {validate} = require('@jambonz/schema');

const logger = {info() {}, debug() {}, warn() {}, error() {}};
const out = [];
for (const file of process.argv.slice(2)) {
  let verdict;
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    validate(logger, doc);
    verdict = {file, valid: true};
  } catch (err) {
    verdict = {file, valid: false, error: String(err && err.message || err)};
  }
  out.push(verdict);
}
process.stdout.write(JSON.stringify(out) + '\n');
