'use strict'

// What Linux's /proc says about CPU time and resident memory.

const fs = require('node:fs')
const os = require('node:os')

const TICKS_PER_SEC = 100 // USER_HZ on Linux

/** Busy CPU seconds of the whole machine since boot (all cores). */
function machineBusySeconds() {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq, steal] = fields
  return (user + nice + system + irq + softirq + (steal || 0)) / TICKS_PER_SEC
}

/** CPU seconds (user + system) a process has used, or 0 if it is gone. */
function processCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC
  } catch {
    return 0
  }
}

/** Resident memory of a process, in bytes (VmRSS), or null if it is gone. */
function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/**
 * Starts watching the CPU: `stop()` answers what share of the machine's CPU
 * (all cores) was used by processes other than `pids()` in between.
 */
function foreignCpu(pids) {
  const t0 = Date.now()
  const machine0 = machineBusySeconds()
  const ours0 = new Map(pids().map((pid) => [pid, processCpuSeconds(pid)]))
  return {
    stop() {
      const wall = (Date.now() - t0) / 1000
      const machine = machineBusySeconds() - machine0
      let ours = 0
      for (const pid of pids()) ours += processCpuSeconds(pid) - (ours0.get(pid) || 0)
      const foreign = Math.max(0, machine - ours)
      return wall > 0 ? Math.round((100 * foreign) / (wall * os.cpus().length)) : 0
    },
  }
}

module.exports = { machineBusySeconds, processCpuSeconds, rssBytes, foreignCpu }
