/**
 * Where the machine's CPU went during a benchmark run: the service, PostgreSQL, the
 * broker, the load generator, the rest, and what stayed idle, each in % of one core
 * (so a 2-core machine adds up to about 200). It answers the first question after
 * every run on a small machine: which process is the limit, or is the machine full?
 *
 * Read from /proc (Linux): utime + stime of every process (proc(5), fields 14 and 15, in
 * clock ticks of 1/100 s, USER_HZ on every Linux architecture Node runs on) and the idle
 * and iowait columns of /proc/stat. PostgreSQL and Mosquitto are found by process name,
 * so with a database or broker on another machine their share is 0 here. Elsewhere
 * (macOS, Windows) the snapshot is null and the benchmarks leave the row out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  at: number;
  /** Idle + iowait ticks of all cores. */
  idleTicks: number;
  /**
   * pid → [process name, CPU ticks used so far, start time in ticks after boot]. The start
   * time tells a reused pid from the same process; the name cannot (kernel workers rename
   * themselves as they take other work).
   */
  processes: Map<number, [string, number, number]>;
}

export interface CpuRoles {
  service: number[];
  loadGenerator: number[];
  harness: number[];
  /**
   * CPU seconds the load generator counted itself (process.cpuUsage). It exits when it has
   * published, often before the run ends, and its /proc entry goes with it; given this, its
   * pids are not read from the snapshots.
   */
  loadGeneratorCpuSeconds?: number;
}

/** % of one core over the interval. */
export interface CpuShares {
  service: number;
  postgres: number;
  broker: number;
  loadGenerator: number;
  harness: number;
  other: number;
  idle: number;
  cores: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const cpu = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const processes = new Map<number, [string, number, number]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The name is in parentheses and may itself hold spaces and parentheses.
      const open = line.indexOf('(');
      const close = line.lastIndexOf(')');
      const fields = line.slice(close + 2).split(' ');
      // After the name: state is field 3, utime field 14, stime field 15, starttime field 22.
      processes.set(pid, [line.slice(open + 1, close), Number(fields[11]) + Number(fields[12]), Number(fields[19])]);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return { at: Date.now(), idleTicks: (cpu[3] ?? 0) + (cpu[4] ?? 0), processes };
}

export function cpuShares(before: CpuSnapshot | null, after: CpuSnapshot | null, roles: CpuRoles): CpuShares | null {
  if (!before || !after || after.at <= before.at) return null;
  const seconds = (after.at - before.at) / 1000;
  const percent = (ticks: number): number => (ticks / TICKS_PER_SECOND / seconds) * 100;
  const shares: CpuShares = { service: 0, postgres: 0, broker: 0, loadGenerator: 0, harness: 0, other: 0, idle: percent(after.idleTicks - before.idleTicks), cores: os.availableParallelism() };
  const role = (pid: number, name: string): Exclude<keyof CpuShares, 'idle' | 'cores'> => {
    if (roles.service.includes(pid)) return 'service';
    if (roles.loadGenerator.includes(pid)) return 'loadGenerator';
    if (roles.harness.includes(pid)) return 'harness';
    if (name === 'postgres') return 'postgres';
    if (name === 'mosquitto') return 'broker';
    return 'other';
  };
  const selfCounted = roles.loadGeneratorCpuSeconds !== undefined;
  if (selfCounted) shares.loadGenerator = (roles.loadGeneratorCpuSeconds! / seconds) * 100;
  for (const [pid, [name, ticks, startedAt]] of after.processes) {
    if (selfCounted && roles.loadGenerator.includes(pid)) continue;
    const earlier = before.processes.get(pid);
    // A process that started during the run (a PostgreSQL backend, say) counts from zero.
    const used = earlier && earlier[2] === startedAt ? ticks - earlier[1] : ticks;
    shares[role(pid, name)] += percent(used);
  }
  return shares;
}

/** One line for the results table. */
export function cpuSharesRow(shares: CpuShares | null): [string, string] {
  if (!shares) return ['machine CPU, % of one core', 'not measured (no /proc on this system)'];
  const r = (v: number): string => String(Math.round(v));
  return [
    `machine CPU, % of one core (${shares.cores} cores)`,
    `service ${r(shares.service)}, PostgreSQL ${r(shares.postgres)}, broker ${r(shares.broker)}, load generator ${r(shares.loadGenerator)}, harness ${r(shares.harness)}, other ${r(shares.other)}, idle ${r(shares.idle)}`,
  ];
}
