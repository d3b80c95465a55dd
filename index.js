'use strict'

// sharedmemory: one key/value store shared by every process of a cluster app.
//
// init() decides this process's part, and so its backend (lib/backend.js
// is the contract a backend fulfils):
//   master             hosts the store (Rust, ../src) and serves workers over cluster IPC
//                      (lib/host.js) and a socket; its own calls use the DirectBackend
//   worker             reaches the store through the master: a BatchingBackend over
//                      IPC, switched to the socket at the handshake (lib/handshake.js)
//   relay ({manager})  the worker with that id hosts the store (lib/host.js,
//                      DirectBackend); the master forwards to it (lib/relay.js)
//   redis              init({redis}) in any process: a client of a Redis server
//                      (lib/backends/redis.js → src/redis/)
//   by name            init({name}) in any process, and every instance of a PM2
//                      app: the processes elect a host by binding the store's
//                      socket name (lib/election.js, lib/pm2.js); the others
//                      connect to it, and elect another when it goes
//                      (lib/backends/elected.js)
//
// A call's path: lib/controller.js builds Request objects (lib/ops.js) →
// the backend: lib/backends/direct.js in the hosting process, straight into
// the store; lib/backends/batching.js elsewhere, one batch per event-loop
// turn over a transport (lib/transports/socket.js → src/socket/server.rs,
// or lib/transports/ipc.js → lib/host.js) → src/host.rs → src/protocol.rs →
// src/store. lib/pending.js matches replies and enforces deadlines,
// lib/subscriptions.js delivers watch events.
//
// Where a new backend plugs in (Redis, a shared-memory reader): an object
// with the members lib/backend.js lists, chosen in create() below for the
// roles it serves, and given to createController (lib/create.js), which
// unit tests also use with fakes (__test__/unit/).

const cluster = require('node:cluster')

const { BatchingBackend } = require('./lib/backends/batching')
const { DirectBackend } = require('./lib/backends/direct')
const { normalizeConfig, defaults } = require('./lib/config')
const { createController } = require('./lib/create')
const { SharedMemoryError, codes } = require('./lib/errors')
const { MasterHost, ManagerHost, ElectedDoor } = require('./lib/host')
const { HostedStore } = require('./lib/hosted-store')
const { ElectedBackend } = require('./lib/backends/elected')
const { Election } = require('./lib/election')
const { pm2StoreKey } = require('./lib/pm2')
const { RelayHost } = require('./lib/relay')
const { IpcTransport } = require('./lib/transports/ipc')
const { RedisBackend } = require('./lib/backends/redis')

let current = null // { controller, config } once init() has run

/**
 * Sets up this process's part of the shared store and answers its
 * controller. Calling it again answers the same controller; with a
 * different config it throws ERR_INVALID_CONFIG.
 */
function init(config) {
  const normalized = normalizeConfig(config)
  if (current && current.controller.closed) current = null // after close(), init() starts afresh
  if (current) {
    if (config === undefined || JSON.stringify(normalized) === JSON.stringify(current.config)) return current.controller
    throw new SharedMemoryError(
      'ERR_INVALID_CONFIG',
      'sharedmemory: init() was already called in this process with a different config; ' +
        'call it once, or with the same config everywhere',
    )
  }
  current = { controller: create(normalized), config: normalized }
  return current.controller
}

function create(config) {
  // Every backend encodes values with this process's `serialization`, and
  // refuses a host that announces another one.
  const timing = { timeout: config.timeout, connectTimeout: config.connectTimeout, serialization: config.serialization }
  const reading = { ...timing, sharedReads: config.sharedReads }
  const style = { callbackStyle: config.callbackStyle }
  const limits = { maxValueSize: config.maxValueSize, serialization: config.serialization }
  const socket = config.transport === 'socket'

  // A store on a Redis server: every process, on any machine, is its client.
  if (config.redis !== null) return createController(new RedisBackend(config), { role: 'client', ...style })

  // A store found by name: the one named, or, under PM2, the app's.
  const key = config.name !== null ? ['name', config.name] : config.manager === null ? pm2StoreKey(process.env, cluster.isWorker) : null
  if (key) {
    let door = null
    const backend = new ElectedBackend(new Election(key, config), { ...reading, ...limits, onClose: () => door && door.close() })
    // A cluster primary's own workers (they call init() with no name) are sent to the elected host.
    if (cluster.isPrimary) door = new ElectedDoor(() => backend.current())
    return createController(backend, style)
  }
  if (cluster.isPrimary && config.manager === null) {
    const store = new HostedStore(config)
    const host = new MasterHost({ store, socket, ...limits })
    return createController(new DirectBackend(store, { ...timing, ...limits, onClose: () => host.close() }), { role: 'master', ...style })
  }
  if (cluster.isPrimary) {
    const relay = new RelayHost({ managerId: config.manager, socket, timeout: config.timeout })
    return createController(new BatchingBackend(relay.transport(), reading), { role: 'master', ...style })
  }
  if (config.manager !== null && cluster.worker.id === config.manager) {
    const store = new HostedStore(config)
    new ManagerHost({ store, socket, ...limits })
    return createController(new DirectBackend(store, { ...timing, ...limits }), { role: 'manager', ...style })
  }
  const transport = new IpcTransport({ socket, timeout: config.timeout })
  return createController(new BatchingBackend(transport, reading), { role: 'worker', ...style })
}

module.exports = { init, SharedMemoryError, codes, defaults }
