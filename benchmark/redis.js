'use strict'

// The redis-server the redis peers talk to: started by the benchmark on
// 127.0.0.1, on a free port the kernel picks, without persistence
// (--save '' --appendonly no), and stopped by its PID at the end.

const { spawn, spawnSync } = require('node:child_process')
const net = require('node:net')

const INSTALL_HINT = 'apt-get update && apt-get install -y redis-server'
const BIN = 'redis-server'

function installed() {
  const r = spawnSync(BIN, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

/** A port that was free a moment ago (the kernel's pick for port 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once something accepts TCP connections on the port and answers PING. */
async function waitForPing(port, timeoutMs) {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.setTimeout(500)
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.once('data', (buf) => {
        socket.destroy()
        resolve(buf.toString().startsWith('+PONG'))
      })
      socket.once('error', () => resolve(false))
      socket.once('timeout', () => {
        socket.destroy()
        resolve(false)
      })
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`)
}

/**
 * Starts redis-server. Answers {port, pid, version, stop()}, or null (with
 * the reason printed) when redis-server is not installed.
 */
async function start(log) {
  const version = installed()
  if (!version) {
    log(`redis-server is not installed: the redis peers are marked "not run". To include them: ${INSTALL_HINT}`)
    return null
  }
  const port = await freePort()
  const child = spawn(
    BIN,
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM')
      const killer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000)
      await exited
      clearTimeout(killer)
    }
  }
  /** For exit handlers: no waiting possible there. */
  const stopNow = () => {
    if (!stopped && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL')
    stopped = true
  }
  try {
    await Promise.race([waitForPing(port, 5000), exited.then((code) => Promise.reject(new Error(`redis-server exited (${code})`)))])
  } catch (err) {
    stopNow()
    throw err
  }
  return { port, pid: child.pid, version, stop, stopNow }
}

module.exports = { start, INSTALL_HINT }
