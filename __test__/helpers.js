'use strict'

// Runs a cluster program from __test__/fixtures and answers what it printed
// after "RESULT ". The program ends itself; if it does not within the
// deadline it is killed (by its PID) and the test fails.

const { spawn } = require('node:child_process')
const path = require('node:path')

function runFixture(name, args = [], { deadlineMs = 120000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', name), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} ${args.join(' ')} did not finish in ${deadlineMs} ms\n${stdout}\n${stderr}`))
    }, deadlineMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))
      if (!line) {
        reject(new Error(`${name} ${args.join(' ')} exited (${code ?? signal}) without a result\n${stdout}\n${stderr}`))
        return
      }
      resolve({ result: JSON.parse(line.slice('RESULT '.length)), stdout, stderr, code })
    })
  })
}

module.exports = { runFixture }
