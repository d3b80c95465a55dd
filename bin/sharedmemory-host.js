#!/usr/bin/env node
'use strict'

// sharedmemory-host: a process that only hosts a store found by name, for
// apps that want the store to outlive every one of their processes. Run it
// as its own PM2 app or systemd unit; clients use
// init({name, host: 'external'}). See lib/host-cli.js for the options.

const { init } = require('..')
const { parseHostArgs, UsageError, USAGE } = require('../lib/host-cli')

let parsed
try {
  parsed = parseHostArgs(process.argv.slice(2))
} catch (err) {
  if (!(err instanceof UsageError)) throw err
  process.stderr.write(`sharedmemory-host: ${err.message}\n\n${USAGE}\n`)
  process.exit(2)
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

const { config } = parsed
let memory
try {
  memory = init({ ...config, connectTimeout: 10000 })
} catch (err) {
  process.stderr.write(`sharedmemory-host: ${err.message}\n`)
  process.exit(2)
}

// Nothing else keeps this process alive: the store is served by Rust threads.
const alive = setInterval(() => {}, 1 << 30)

let stopping = false
async function stop(signal) {
  if (stopping) return
  stopping = true
  clearInterval(alive)
  await memory.close() // with --persist, the last snapshot is written first
  process.stdout.write(`sharedmemory-host: ${signal}: stopped serving ${JSON.stringify(config.name)}\n`)
  process.exit(0)
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))

memory.ready().then(
  () => {
    if (memory.role !== 'master') {
      process.stderr.write(
        `sharedmemory-host: the store ${JSON.stringify(config.name)} is hosted by another process already; ` +
          'stop it first (its clients should use host: "external")\n',
      )
      process.exit(1)
    }
    const persisted = config.persist ? `, persisted to ${require('node:path').resolve(config.persist.path)}` : ''
    process.stdout.write(`sharedmemory-host: serving ${JSON.stringify(config.name)} (pid ${process.pid}${persisted})\n`)
  },
  (err) => {
    process.stderr.write(`sharedmemory-host: ${err.message}\n`)
    process.exit(1)
  },
)
