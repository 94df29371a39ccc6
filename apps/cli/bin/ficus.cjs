#!/usr/bin/env node
'use strict';
// The `ficus` command (package.json "bin"). The sources are TypeScript, run through
// @swc-node/register as `npm start` does; the repository's tsconfig.json supplies the path
// aliases wherever the command is started from.
const { join } = require('node:path');

// `ficus flags list | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.env.SWC_NODE_PROJECT ??= join(__dirname, '..', '..', '..', 'tsconfig.json');
require('reflect-metadata');
require('@swc-node/register');
const { run } = require('../src/main.ts');

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`ficus: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
