// Loaded into every ficus process by `npm run profile` (NODE_OPTIONS=--require): the first
// SIGUSR2 starts the V8 CPU profiler, the second stops it and writes
// $FICUS_PROFILE_DIR/<target>-<pid>.cpuprofile (the target is --target's value, or "monolith").
// Plain JavaScript, so that it loads before any TypeScript hook.
'use strict';
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.FICUS_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  let profiling = false;
  process.on('SIGUSR2', () => {
    if (!profiling) {
      profiling = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start')),
      );
      return;
    }
    profiling = false;
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      const target = (process.argv.join(' ').match(/--target (\S+)/) || [undefined, 'monolith'])[1];
      writeFileSync(join(dir, `${target}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
