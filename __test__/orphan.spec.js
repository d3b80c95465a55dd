'use strict'

const { spawn } = require('node:child_process')
const path = require('node:path')
const test = require('ava')

const { alive } = require('./helpers')

const fixture = path.join(__dirname, 'fixtures', 'orphan-loop.js')

const cases = [
  ['socket', 'a worker awaiting calls in a loop exits once its master is killed', {}],
  ['ipc', 'a worker awaiting calls in a loop exits once its master is killed', {}],
  ['socket', 'a worker awaiting calls that fail at once (no host) still exits once its master is killed', { SM_NO_HOST: '1' }],
]

for (const [transport, title, env] of cases) {
  test(`${transport}: ${title}`, async (t) => {
    const master = spawn(process.execPath, [fixture], {
      env: { ...process.env, SM_TRANSPORT: transport, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    const workerPid = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no worker pid within 60 s: ${output}`)), 60000)
      master.stdout.on('data', (chunk) => {
        output += chunk
        const match = /WORKER (\d+)/.exec(output)
        if (match) {
          clearTimeout(timer)
          resolve(Number(match[1]))
        }
      })
    })
    if (master.exitCode === null && master.signalCode === null) await new Promise((resolve) => master.once('exit', resolve))
    t.is(master.signalCode, 'SIGKILL', 'the master was killed')
    const deadline = Date.now() + 60000
    while (alive(workerPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    const stillAlive = alive(workerPid)
    if (stillAlive) process.kill(workerPid, 'SIGKILL') // ours: its master was our child
    t.false(stillAlive, 'the orphaned worker was still running 60 s after its master died')
  })
}
