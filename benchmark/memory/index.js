'use strict'

// Memory per stored entry: this package's master (RSS delta) beside Redis
// (INFO used_memory delta, and its RSS delta), for the same N small entries.

const { fork } = require('node:child_process')
const path = require('node:path')
const { measureRedis } = require('./redis')

function measureOurs(entries, timeoutMs) {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'ours.js'), [], {
      env: { ...process.env, BENCH_MEMORY_ENTRIES: String(entries) },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let result = null
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('message', (m) => m && m.result && (result = m.result))
    child.on('exit', () => {
      clearTimeout(timer)
      resolve(result || { error: 'memory test process ended without a result' })
    })
  })
}

async function measureMemory({ entries, redis, timeoutMs = 180000 }) {
  const ours = await measureOurs(entries, timeoutMs)
  if (!ours.error) ours.bytesPerEntry = (ours.rssAfter - ours.rssBefore) / entries
  let theirs = null
  if (redis) {
    try {
      theirs = await measureRedis(redis, entries)
      theirs.bytesPerEntry = (theirs.usedAfter - theirs.usedBefore) / entries
      theirs.rssBytesPerEntry = (theirs.rssAfter - theirs.rssBefore) / entries
    } catch (err) {
      theirs = { error: String(err.message || err) }
    }
  }
  return { entries, ours, redis: theirs }
}

module.exports = { measureMemory }
