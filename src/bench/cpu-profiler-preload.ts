/**
 * Preloaded into the bridge with `NODE_OPTIONS=--require …/cpu-profiler-preload.js` by
 * `npm run bench -- --cpu-prof` (Node 20 does not take `--cpu-prof` in NODE_OPTIONS): profiles
 * the whole process and writes `<BENCH_CPU_PROFILE_DIR>/bridge-<pid>.cpuprofile` at exit.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // The main thread's session answers synchronously, so the profile is written before exit.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) {
        writeFileSync(
          join(dir, `bridge-${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
      }
    });
  });
}
