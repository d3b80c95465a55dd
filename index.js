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
//   a worker thread    joins its process's store in its process's part: the
//                      store itself when the process hosts it, else the same
//                      host's socket (lib/process-store.js, lib/links.js)
//   a forked child     of a process that called init(): joins the store its
//                      parent uses (SHAREDMEMORY_PARENT, lib/process-store.js)
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
const { isMainThread } = require('node:worker_threads')

// First: on a platform without a binary, this says which platforms have one (lib/native.js).
require('./lib/native')

const { BatchingBackend } = require('./lib/backends/batching')
const { DirectBackend } = require('./lib/backends/direct')
const { normalizeConfig, defaults } = require('./lib/config')
const { createController } = require('./lib/create')
const { SharedMemoryError, codes } = require('./lib/errors')
const { MasterHost, ManagerHost, ElectedDoor } = require('./lib/host')
const { joinAtBirth } = require('./lib/handshake')
const { HostedStore } = require('./lib/hosted-store')
const { ElectedBackend } = require('./lib/backends/elected')
const { Election } = require('./lib/election')
const { ThreadLink, ParentLink } = require('./lib/links')
const { pm2StoreKey } = require('./lib/pm2')
const part = require('./lib/process-store')
const { RelayHost } = require('./lib/relay')
const { IpcTransport } = require('./lib/transports/ipc')
const { RedisBackend } = require('./lib/backends/redis')

let current = null // { controller, config } once init() has run

// Threads that call init() before this (main) thread does wait for it.
part.markLoaded()

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
  // sharedReads reaches the backend as what its reader needs, or false.
  const reading = { ...timing, sharedReads: config.sharedReads && { cacheBytes: config.sharedReadCache } }
  const style = { callbackStyle: config.callbackStyle }
  const limits = { maxValueSize: config.maxValueSize, serialization: config.serialization }
  const socket = config.transport === 'socket'

  // A store on a Redis server: every process, on any machine, is its client.
  if (config.redis !== null) return createController(new RedisBackend(config), { role: 'client', ...style })

  // A worker thread: its process's store, in its process's part.
  if (!isMainThread && config.manager === null) {
    const found = part.processPart()
    const sameName = config.name === null || (found && sameKey(found.info.key, ['name', config.name]))
    if (sameName && found && found.info.state !== 'unsupported') {
      const backend = new ElectedBackend(new ThreadLink(config), { ...reading, ...limits })
      return createController(backend, style)
    }
    if (config.name === null) return alone(config, found ? found.info.why : 'its main thread never loaded sharedmemory', timing, limits, style)
  }

  // A store found by name: the one named, the one a parent uses, or, under PM2, the app's.
  const parent = config.name === null && config.manager === null && !cluster.isWorker ? part.parentStore() : null
  if (parent && parent.socket) {
    const backend = new ElectedBackend(new ParentLink(parent, config), { ...reading, ...limits })
    part.exportToChildren(parent)
    const controller = createController(backend, style)
    ready(backend, () => part.publishPart({ state: 'ready', role: 'worker', socket: parent.socket, limits: parent.limits }))
    return controller
  }
  const key =
    config.name !== null
      ? ['name', config.name]
      : parent
        ? parent.key
        : config.manager === null
          ? pm2StoreKey(process.env, cluster.isWorker)
          : null
  if (config.host === 'external' && !key) {
    throw new SharedMemoryError(
      'ERR_INVALID_CONFIG',
      'sharedmemory: host "external" needs a store found by name: give name (the one sharedmemory-host --name serves)',
    )
  }
  if (key) {
    let door = null
    let hosted = null // the store, while this process hosts it
    part.exportToChildren({ key })
    part.publishPart({ state: 'pending', role: 'worker', key })
    const onFound = (found) => {
      hosted = found && found.host ? found.host : null
      if (found === null) part.publishPart({ state: 'pending', role: 'worker', key })
      else if (found.host) part.publishPart({ state: 'ready', role: 'master', key, limits }, found.host)
      else part.publishPart({ state: 'ready', role: 'worker', key, socket: found.socket, limits: found.limits })
    }
    const backend = new ElectedBackend(new Election(key, config), { ...reading, ...limits, onFound, onClose: () => onClosed(door, hosted) })
    // A cluster primary's own workers (they call init() with no name) are sent to the elected host.
    if (cluster.isPrimary && isMainThread) door = new ElectedDoor(() => backend.current())
    return createController(backend, style)
  }
  if (cluster.isPrimary && config.manager === null) {
    const store = new HostedStore(config)
    store.beginHosting()
    const host = new MasterHost({ store, socket, ...limits })
    hostedPart(store, host.announced, 'master')
    return createController(new DirectBackend(store, { ...timing, ...limits, onClose: () => onClosed(host, store) }), { role: 'master', ...style })
  }
  if (cluster.isPrimary) {
    const relay = new RelayHost({ managerId: config.manager, socket, timeout: config.timeout })
    part.publishPart({ state: 'unsupported', why: 'in relay mode its master hosts nothing (threads of the manager worker share)' })
    return createController(new BatchingBackend(relay.transport(), reading), { role: 'master', ...style })
  }
  if (config.manager !== null && cluster.worker.id === config.manager) {
    const store = new HostedStore(config)
    store.beginHosting()
    const host = new ManagerHost({ store, socket, ...limits })
    hostedPart(store, host.announced, 'manager')
    return createController(new DirectBackend(store, { ...timing, ...limits, onClose: () => onClosed(null, store) }), { role: 'manager', ...style })
  }
  const transport = new IpcTransport({ socket, timeout: config.timeout })
  const backend = new BatchingBackend(transport, reading)
  // Forked by a master that serves already: its socket is in the environment
  // (lib/process-store.js), so the worker connects now and sync calls work on the next line.
  const master = socket && config.manager === null ? part.parentStore() : null
  let born = master && master.socket ? { socket: master.socket, ...master.limits } : null
  part.publishPart({ state: 'pending', role: 'worker' })
  ready(backend, () => {
    const welcome = transport.welcome || born
    if (backend.transport !== 'socket' || !welcome || !welcome.socket) {
      return part.publishPart({ state: 'unsupported', why: 'its process reaches the store over cluster IPC only' })
    }
    const announced = { maxValueSize: welcome.maxValueSize, serialization: welcome.serialization, segment: welcome.segment || null }
    part.publishPart({ state: 'ready', role: 'worker', socket: welcome.socket, limits: announced })
    part.exportToChildren({ socket: welcome.socket, limits: announced })
  })
  if (born && !joinAtBirth(backend, born, { timeout: config.timeout })) born = null
  return createController(backend, { role: 'worker', ...style })
}

/** This process hosts `store`: its threads use it directly, its forked children its socket (when it serves one). */
function hostedPart(store, announced, role) {
  const { maxValueSize, serialization } = announced
  part.publishPart({ state: 'ready', role, limits: { maxValueSize, serialization } }, store)
  if (announced.socket) part.exportToChildren({ socket: announced.socket, limits: { maxValueSize, serialization, segment: announced.segment || null } })
}

/**
 * close() in the main thread: this process's threads and later children no
 * longer find its store, `host` stops serving, and the threads that used
 * the hosted `store` directly fail with ERR_HOST_EXITED and look again.
 */
function onClosed(host, store = null) {
  part.withdraw()
  if (host) host.close()
  if (store) store.retire()
}

/** Runs `then` once `backend` serves (never, if it never does). */
function ready(backend, then) {
  backend.ready().then(then, () => {})
}

function sameKey(a, b) {
  return Array.isArray(a) && a.length === b.length && a.every((part, i) => part === b[i])
}

/**
 * A thread that cannot share its process's store gets one of its own, and
 * says so once (on this thread): role 'master', transport 'local'.
 */
function alone(config, why, timing, limits, style) {
  process.emitWarning(
    `sharedmemory: init() in a worker thread that cannot join its process's store (${why}): this thread gets a ` +
      'store of its own, shared with nobody. Call init() in the main thread too (require sharedmemory there before ' +
      'starting Workers), or give every thread and process the same {name}.',
    { type: 'SharedMemoryWarning', code: 'SHAREDMEMORY_THREAD_ALONE' },
  )
  const store = new HostedStore(config)
  return createController(new DirectBackend(store, { ...timing, ...limits }), { role: 'master', ...style })
}

module.exports = { init, SharedMemoryError, codes, defaults }
