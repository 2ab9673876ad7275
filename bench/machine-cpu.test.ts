import { describe, expect, it } from 'vitest';
import { cpuShares, cpuSharesRow, cpuSnapshot, type CpuSnapshot } from './machine-cpu.js';

// Processes as [pid, name, ticks, start time]; the start time is 0 unless a test needs another.
const snapshot = (at: number, idleTicks: number, processes: ([number, string, number] | [number, string, number, number])[]): CpuSnapshot => ({
  at, idleTicks, processes: new Map(processes.map(([pid, name, ticks, startedAt]) => [pid, [name, ticks, startedAt ?? 0]])),
});

describe('machine CPU shares', () => {
  it('splits the ticks of an interval by role, in % of one core', () => {
    const before = snapshot(0, 1000, [[10, 'node', 500], [11, 'node', 20], [20, 'postgres', 100], [21, 'postgres', 0], [30, 'mosquitto', 5], [40, 'node', 1], [50, 'kworker/0:1', 0]]);
    // 10 s later: 1 core idle for 3 s; the service used 9.5 s, one PostgreSQL backend 4 s,
    // another one started during the run (2 s), the broker 0.5 s.
    const after = snapshot(10_000, 1300, [[10, 'node', 1450], [11, 'node', 70], [20, 'postgres', 500], [21, 'postgres', 0], [22, 'postgres', 200], [30, 'mosquitto', 55], [40, 'node', 11], [50, 'kworker/0:1', 30]]);
    const shares = cpuShares(before, after, { service: [10], loadGenerator: [11], harness: [40] });
    expect(shares).toMatchObject({ service: 95, loadGenerator: 5, harness: 1, postgres: 60, broker: 5, other: 3, idle: 30 });
    expect(cpuSharesRow(shares)[1]).toBe('service 95, PostgreSQL 60, broker 5, load generator 5, harness 1, other 3, idle 30');
  });

  it('takes the load generator\'s own count when it gives one (it may have exited before the end)', () => {
    const before = snapshot(0, 0, [[11, 'node', 20], [12, 'node', 0]]);
    const after = snapshot(2000, 0, [[12, 'node', 10]]);
    const shares = cpuShares(before, after, { service: [], loadGenerator: [11, 12], harness: [], loadGeneratorCpuSeconds: 0.5 });
    expect(shares?.loadGenerator).toBe(25);
    expect(shares?.other).toBe(0);
  });

  it('counts a reused pid as a new process', () => {
    const before = snapshot(0, 0, [[7, 'bash', 900, 100]]);
    const after = snapshot(1000, 0, [[7, 'postgres', 40, 5000]]);
    expect(cpuShares(before, after, { service: [], loadGenerator: [], harness: [] })?.postgres).toBe(40);
  });

  it('follows a process that renamed itself (kernel workers do)', () => {
    const before = snapshot(0, 0, [[9, 'kworker/u8:1-events_unbound', 5000, 42]]);
    const after = snapshot(1000, 0, [[9, 'kworker/u8:1-flush-8:0', 5003, 42]]);
    expect(cpuShares(before, after, { service: [], loadGenerator: [], harness: [] })?.other).toBe(3);
  });

  it('reads this process from /proc on Linux, and says so when there is none', () => {
    const snap = cpuSnapshot();
    if (process.platform !== 'linux') {
      expect(snap).toBeNull();
      expect(cpuSharesRow(null)[1]).toContain('not measured');
      return;
    }
    // Node 24 names its main thread, and so /proc's name of the process, "MainThread".
    expect(snap!.processes.get(process.pid)?.[0]).toMatch(/node|MainThread/);
    expect(snap!.processes.get(process.pid)![1]).toBeGreaterThan(0);
  });
});
