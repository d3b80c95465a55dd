'use strict'

// Starts a real redis-server for a test (or valkey-server: SM_REDIS_SERVER
// names the program), in a temp dir of its own, with nothing persisted, and
// stops it by its PID. On a unix socket by default (the dir is 0700 and the
// socket 0700), or on 127.0.0.1 with a free port ({tcp: true}).

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const SERVER = process.env.SM_REDIS_SERVER || 'redis-server'

/** A port nobody listens on now (the server may still lose a race for it: start() retries). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/**
 * @param {object} [options]
 * @param {boolean} [options.tcp] listen on 127.0.0.1 (a free port) instead of a unix socket
 * @param {string[]} [options.args] more server arguments (e.g. ['--notify-keyspace-events', 'KEA'])
 * @param {string} [options.dir] reuse this dir (and its socket path), to restart a server where it was
 * @param {number} [options.port] reuse this port
 * @returns {Promise<{url, pid, dir, port, socket, stop, kill, restart}>}
 */
async function startRedis({ tcp = false, args = [], dir, port, deadlineMs = 30000 } = {}) {
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'sm-redis-'))
  fs.chmodSync(dir, 0o700)
  const socket = path.join(dir, 'redis.sock')
  for (let attempt = 0; ; attempt++) {
    const listenPort = tcp ? port || (await freePort()) : 0
    const argv = [
      '--port', String(listenPort),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--dbfilename', 'unused.rdb',
      ...(tcp ? [] : ['--unixsocket', socket, '--unixsocketperm', '700']),
      ...args,
    ]
    const child = spawn(SERVER, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    // If the test process ends without stopping it (a test that timed out), it goes too.
    const orphaned = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')
    process.once('exit', orphaned)
    child.once('exit', () => process.removeListener('exit', orphaned))
    const started = await new Promise((resolve) => {
      let out = ''
      const timer = setTimeout(() => done(false), deadlineMs)
      const done = (ok) => {
        clearTimeout(timer)
        child.stdout.removeAllListeners('data')
        resolve(ok ? true : out)
      }
      child.stdout.on('data', (chunk) => {
        out += chunk
        if (/ready to accept connections/i.test(out)) done(true)
      })
      child.on('exit', () => done(false))
      child.on('error', (err) => {
        out += String(err)
        done(false)
      })
    })
    child.stdout.resume()
    child.stderr.resume()
    if (started === true) {
      const url = tcp ? `redis://127.0.0.1:${listenPort}` : `unix://${socket}`
      const exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))
      const signal = async (name) => {
        if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, name)
        await exited
      }
      return {
        url,
        pid: child.pid,
        dir,
        port: listenPort,
        socket,
        /** Stops it by PID (SIGTERM) and waits for it to exit. */
        stop: () => signal('SIGTERM'),
        /** Kills it by PID (SIGKILL) and waits for it to exit. */
        kill: () => signal('SIGKILL'),
        /** A new server where this one was (same dir, socket or port, arguments). */
        restart: () => startRedis({ tcp, args, dir, port: listenPort, deadlineMs }),
      }
    }
    if (child.exitCode === null) process.kill(child.pid, 'SIGKILL')
    if (!tcp || port || attempt >= 3) throw new Error(`${SERVER} did not start: ${started}`)
  }
}

/** Whether the server program exists here (the Redis tests need it; CI installs it). */
function haveRedis() {
  const dirs = (process.env.PATH || '').split(path.delimiter)
  return SERVER.includes('/') ? fs.existsSync(SERVER) : dirs.some((dir) => fs.existsSync(path.join(dir, SERVER)))
}

module.exports = { startRedis, freePort, haveRedis, SERVER }

/**
 * A Redis Cluster of `masters` nodes on 127.0.0.1 free ports, each in a temp
 * dir of its own, slots spread by `redis-cli --cluster create`; stop() stops
 * every node by PID.
 */
async function startCluster({ masters = 3, args = [] } = {}) {
  const nodes = []
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startRedis({ tcp: true, args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', ...args] }))
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await runCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    // Every node must know every slot before a client starts.
    for (const node of nodes) {
      const end = Date.now() + 30000
      while (!/cluster_state:ok/.test(await runCli(['-p', String(node.port), 'cluster', 'info']))) {
        if (Date.now() > end) throw new Error(`the cluster node on ${node.port} never reached cluster_state:ok`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  } catch (err) {
    for (const node of nodes) await node.stop()
    throw err
  }
  return {
    nodes,
    url: `redis://127.0.0.1:${nodes[0].port}`,
    stop: async () => {
      for (const node of nodes) await node.stop()
    },
  }
}

/**
 * Runs redis-cli (beside the server program) and answers what it printed; fails on a non-zero exit.
 * It answers on 'close', once its output has been read to the end: at 'exit' the pipes may still
 * hold some (on a loaded machine, a `--scan` then looked as if a node held no keys).
 */
function runCli(args) {
  const cli = SERVER.replace(/(redis|valkey)-server$/, '$1-cli')
  return new Promise((resolve, reject) => {
    const child = spawn(cli, ['-h', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.stderr.on('data', (chunk) => (out += chunk))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cli} ${args.join(' ')} exited ${code}: ${out}`))))
  })
}

module.exports.startCluster = startCluster
module.exports.runCli = runCli
