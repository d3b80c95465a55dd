'use strict'

// Runs a program (a cluster fixture from __test__/fixtures, or an example)
// and answers what it printed. Programs end by themselves; one that does not
// within the deadline is killed by its PID and the test fails.

const { spawn } = require('node:child_process')
const path = require('node:path')

function run(file, args = [], { deadlineMs = 120000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${path.basename(file)} ${args.join(' ')} did not finish in ${deadlineMs} ms\n${stdout}\n${stderr}`))
    }, deadlineMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ stdout, stderr, code, signal })
    })
  })
}

/** Runs a fixture and answers the JSON it printed after "RESULT ". */
async function runFixture(name, args = [], options) {
  const output = await run(path.join(__dirname, 'fixtures', name), args, options)
  const line = output.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) {
    throw new Error(`${name} ${args.join(' ')} exited (${output.code ?? output.signal}) without a result\n${output.stdout}\n${output.stderr}`)
  }
  return { result: JSON.parse(line.slice('RESULT '.length)), ...output }
}

/**
 * The ways a scenario runs when it must hold in relay mode too: [title,
 * env] pairs, the env selecting the transport (SM_TRANSPORT) and relay mode
 * (SM_RELAY: worker 1 hosts the store and the master relays).
 */
const allModes = [
  ['socket', { SM_TRANSPORT: 'socket', SM_RELAY: '' }],
  ['ipc', { SM_TRANSPORT: 'ipc', SM_RELAY: '' }],
  ['relay mode over socket', { SM_TRANSPORT: 'socket', SM_RELAY: '1' }],
  ['relay mode over ipc', { SM_TRANSPORT: 'ipc', SM_RELAY: '1' }],
]

/** Whether process `pid` still exists (signal 0 checks without sending anything). */
function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Resolves once `check()` (sync or async) holds, trying again every 10 ms; fails past the deadline. */
async function eventually(check, what, deadlineMs = 20000) {
  const end = Date.now() + deadlineMs
  for (;;) {
    try {
      if (await check()) return
    } catch {}
    if (Date.now() > end) throw new Error(`not seen within ${deadlineMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

module.exports = { run, runFixture, allModes, alive, eventually }
