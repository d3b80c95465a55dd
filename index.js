'use strict'

// sharedmemory: one key/value store shared by every process of a cluster app.
//
// init() decides this process's part:
//   master             hosts the store (Rust, ../src) and serves workers over cluster IPC
//   worker             reaches the store through the master
//   relay ({manager})  the worker with that id hosts the store; the master forwards to it
//
// A call's path: lib/controller.js → lib/client.js → a transport
// (lib/transports/local.js in the hosting process, lib/transports/socket.js or
// lib/transports/ipc.js in workers) → lib/host.js in the master (IPC) or
// src/socket/server.rs (socket) → src/host.rs → src/protocol.rs → src/store.

const cluster = require('node:cluster')

const { Client } = require('./lib/client')
const { normalizeConfig, defaults } = require('./lib/config')
const { Controller } = require('./lib/controller')
const { SharedMemoryError, codes } = require('./lib/errors')
const { MasterHost, ManagerHost } = require('./lib/host')
const { HostedStore } = require('./lib/hosted-store')
const { IpcTransport } = require('./lib/transports/ipc')
const { LocalTransport } = require('./lib/transports/local')

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
  // Every client encodes values with this process's `serialization`, and
  // refuses a host that announces another one.
  const timing = { timeout: config.timeout, connectTimeout: config.connectTimeout, serialization: config.serialization }
  const style = { callbackStyle: config.callbackStyle }
  const limits = { maxValueSize: config.maxValueSize, serialization: config.serialization }
  const socket = config.transport === 'socket'

  if (cluster.isPrimary && config.manager === null) {
    const store = new HostedStore(config)
    new MasterHost({ store, managerId: null, socket, ...limits })
    return new Controller(new Client(new LocalTransport(store), { ...timing, ready: limits }), { role: 'master', ...style })
  }
  if (cluster.isPrimary) {
    const host = new MasterHost({ store: null, managerId: config.manager, socket, timeout: config.timeout, ...limits })
    return new Controller(new Client(host.relayTransport(), timing), { role: 'master', ...style })
  }
  if (config.manager !== null && cluster.worker.id === config.manager) {
    const store = new HostedStore(config)
    new ManagerHost({ store, socket, ...limits })
    return new Controller(new Client(new LocalTransport(store), { ...timing, ready: limits }), { role: 'manager', ...style })
  }
  const transport = new IpcTransport({ socket, timeout: config.timeout })
  return new Controller(new Client(transport, timing), { role: 'worker', ...style })
}

module.exports = { init, SharedMemoryError, codes, defaults }
