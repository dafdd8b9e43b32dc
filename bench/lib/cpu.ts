import { readFileSync } from 'node:fs';

/**
 * CPU time a process has used (user + system, ms), from /proc. On a shared machine wall-clock
 * latency moves with everyone else's load; CPU time per request moves much less.
 */
const TICK_MS = 10; // USER_HZ is 100 on Linux

export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": state is field 0, utime is field 11, stime field 12
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

/** Postgres backends' CPU is part of our gateway's cost: summed over the given backend pids. */
export function cpuMsOfAll(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMsOf(pid) || 0), 0);
}

/** CPU ms per pid at one instant. */
export type CpuSnapshot = Map<number, number>;

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const pid of pids) {
    const v = cpuMsOf(pid);
    if (Number.isFinite(v)) snap.set(pid, v);
  }
  return snap;
}

/**
 * CPU used between two snapshots, per pid: a process that appeared in between (a pool opening a new
 * PostgreSQL backend) counts from zero, so its whole work is counted; one that ended in between is lost
 * (pools here keep their connections for the whole measurement, so that is rare and only undercounts).
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}
