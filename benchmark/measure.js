'use strict'

// Runs one measurement in a fresh cluster: starts cluster/main.js as a child
// process (the measurement's master, which forks the workers) and answers
// the figures it sends back. A measurement that overruns is stopped: its
// master is SIGKILLed by PID, and its workers exit when their IPC channel
// to it closes.

const { fork } = require('node:child_process')
const path = require('node:path')

const MAIN = path.join(__dirname, 'cluster', 'main.js')
const GRACE_MS = 5000

let current = null // the running measurement's master, for stopCurrent()

/** @returns {Promise<object>} the figures, or {error} */
function measure(spec) {
  return new Promise((resolve) => {
    const child = fork(MAIN, [], {
      env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    current = child
    let result = null
    const timer = setTimeout(() => {
      result = result || { error: `no answer within ${spec.timeoutMs + GRACE_MS} ms; stopped` }
      child.kill('SIGKILL')
    }, spec.timeoutMs + GRACE_MS)
    child.on('message', (msg) => {
      if (msg && msg.result) result = msg.result
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      current = null
      resolve(result || { error: `measurement process exited (${signal || code}) without a result` })
    })
  })
}

/** Stops the running measurement (on Ctrl-C or a fatal error). */
function stopCurrent() {
  if (current && current.exitCode === null) current.kill('SIGKILL')
}

module.exports = { measure, stopCurrent }
