// The test run's reaper: started detached by test/global-setup.ts, it outlives the test
// runner on purpose. Whatever the run started that must not outlive it (embedded
// PostgreSQL clusters and their folders, `stadtfunk start` children, Mosquitto brokers,
// benchmark children) is listed, one JSON object a line, in the registry file (see
// bench/reaper.ts). It cleans all of it up when the runner's process is gone (killed,
// crashed, timed out in CI) or when the global teardown asks (SIGUSR2), whichever comes
// first: processes get SIGTERM (SIGINT for a postmaster: fast shutdown), then SIGKILL
// after 5 s; folders are removed once their processes are gone. Plain JavaScript: it
// must start without a loader, and fast.
//
// usage: node test/reaper.mjs <runner pid> <registry file>
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const [runnerPid, registry] = [Number(process.argv[2]), process.argv[3]];

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/** On Linux, whether the pid still runs what was registered (a pid may be reused). */
const runs = (pid, match) => {
  if (!match || process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(match);
  } catch {
    return false;
  }
};

/** The postmaster of an embedded cluster under `dir` (postmaster.pid's first line), if any. */
const postmasters = (dir) => ['postgres/postmaster.pid', 'postmaster.pid'].flatMap((file) => {
  try {
    const pid = Number(readFileSync(path.join(dir, file), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && runs(pid, 'postgres') ? [pid] : [];
  } catch {
    return [];
  }
});

let cleaning = false;
async function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  const entries = existsSync(registry) ? readFileSync(registry, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const targets = []; // [pid, isGroup]
  for (const e of entries) {
    // A group id is not given to a new process while any member of the group lives.
    if (e.group) targets.push([e.group, true, 'SIGTERM']);
    if (e.pid && runs(e.pid, e.match)) targets.push([e.pid, false, 'SIGTERM']);
    if (e.dir) for (const pid of postmasters(e.dir)) targets.push([pid, false, 'SIGINT']);
  }
  const signal = (pid, group, sig) => {
    try {
      process.kill(group ? -pid : pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  const live = targets.filter(([pid, group, sig]) => signal(pid, group, sig));
  const deadline = Date.now() + 5_000;
  while (live.some(([pid]) => alive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const killed = live.filter(([pid, group]) => alive(pid) && signal(pid, group, 'SIGKILL'));
  while (killed.some(([pid]) => alive(pid)) && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 50));
  const dirs = entries.filter((e) => e.dir && existsSync(e.dir)).map((e) => e.dir);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  rmSync(registry, { force: true });
  process.exit(0);
}

process.on('SIGUSR2', () => void cleanUp());
// A terminal's Ctrl-C reaches the whole foreground group; the reaper runs in its own.
process.on('SIGINT', () => undefined);
setInterval(() => {
  if (!alive(runnerPid)) void cleanUp();
}, 250);
