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
const { MasterHost, ManagerHost } = require('./lib/host')
const { HostedStore } = require('./lib/hosted-store')
const { RelayHost } = require('./lib/relay')
const { IpcTransport } = require('./lib/transports/ipc')

let current = null // { controller, config } once init() has run

/**
 * Sets up this process's part of the shared store and answers its
 * controller. Calling it again answers the same controller; with a
 * different config it throws ERR_INVALID_CONFIG.
 */
function init(config) {
  const normalized = normalizeConfig(config)
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

  if (cluster.isPrimary && config.manager === null) {
    const store = new HostedStore(config)
    new MasterHost({ store, socket, ...limits })
    return createController(new DirectBackend(store, { ...timing, ...limits }), { role: 'master', ...style })
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
