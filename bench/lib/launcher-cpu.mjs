// `node --import bench/lib/launcher-cpu.mjs bin/flow.js …`: at exit, writes to $FLOW_BENCH_LAUNCHER_CPU the CPU ms
// (user + system, their waited-for children included) of the processes this one started that still live: flow's
// launchers (native or bash), with the programs they started and waited for. GNU time cannot count them: flow never
// waits for its launchers, which end once its pipes close, after it has exited.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

process.on('exit', () => {
  let ms = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after "(comm) ": state ppid … utime(14) stime(15) cutime(16) cstime(17), counted from 1.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== process.pid) continue;
    ms += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK_MS;
  }
  writeFileSync(process.env.FLOW_BENCH_LAUNCHER_CPU, String(ms));
});
