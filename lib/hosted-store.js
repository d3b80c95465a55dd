'use strict'

// The store this process hosts (NativeStore, src/binding.rs): the socket
// it serves it on (listen), and where what it pushes goes. Its own calls
// reach it through the DirectBackend (lib/backends/direct.js), workers'
// through lib/host.js or the socket.
//
// Every process the store serves through this process's JavaScript (this
// process itself, each IPC worker, each worker the master relays to a
// manager) is an *owner* with its own locks and watches, numbered by the
// store. The store pushes answers that come later (a lock granted to a
// waiter, a wait that ran out) and watch events to an owner; this routes
// them. (Workers on the socket transport are owners of the Rust server
// itself, which pushes to them directly.)

const crypto = require('node:crypto')

const { NativeStore } = require('./native')
const { storeOptions } = require('./config')
const { Persistence } = require('./persistence')
const { USE_WINDOW_MS } = require('./shared-reads')

/** The registry key (src/threads.rs) a process's own store is shared under (lib/process-store.js). */
const SHARED_KEY = 'process'

class HostedStore {
  #native
  #routes = new Map() // owner → deliver(message)
  #peers = new Map() // a served process's id (a worker id) → its owner number
  /** The owner number of this process's own requests. */
  local

  #useWindow
  #config
  #persistence = null

  /** A new store with `config`; with `config` null, the store this process's main thread shares (see join). */
  constructor(config) {
    this.#config = config
    const route = ({ owner, message }) => {
      const deliver = this.#routes.get(owner)
      if (deliver) deliver(message)
    }
    if (config === null) {
      this.#native = NativeStore.join(SHARED_KEY, route)
      this.#useWindow = USE_WINDOW_MS
    } else {
      // Readers of the shared segment tell this store about the entries they
      // read at most once per window: within a quarter of the idle expiry,
      // so an entry read only by them never expires as idle.
      const idle = config.cache && config.cache.type === 'expire' ? config.cache.expire : Infinity
      this.#useWindow = Math.max(1, Math.min(USE_WINDOW_MS, Math.floor(idle / 4)))
      this.#native = new NativeStore(storeOptions(config), route)
    }
    this.local = this.#native.localOwner
  }

  /**
   * In a worker thread: the store the main thread of this process hosts
   * and shared (share()), used directly, as an owner of this thread's own
   * (its locks and watches end with the thread). Throws when none is shared.
   */
  static join() {
    return new HostedStore(null)
  }

  /** Lets this process's other threads join this store (lib/process-store.js); `info` is what they read. */
  share(key, info) {
    this.#native.share(key, info)
  }

  /** Where pushes for this process's own requests go. */
  onLocalPush(deliver) {
    this.#routes.set(this.local, deliver)
  }

  /**
   * The owner number of the process `id` (a worker id) served through this
   * one, registering it at its first request: what the store pushes to it
   * goes to `deliver(id, message)`.
   */
  ownerOf(id, deliver) {
    let owner = this.#peers.get(id)
    if (owner === undefined) {
      owner = this.#native.connect()
      this.#peers.set(id, owner)
      this.#routes.set(owner, (message) => deliver(id, message))
    }
    return owner
  }

  /** Process `id` went away: its locks pass on to their next waiters, its watches end. */
  forget(id) {
    const owner = this.#peers.get(id)
    if (owner === undefined) return
    this.#peers.delete(id)
    this.#routes.delete(owner)
    this.#native.disconnect(owner)
  }

  /** Applies a request batch (see src/protocol.rs) from `owner`; answers the reply batch. */
  applyBatch(batch, owner = this.local) {
    return this.#native.applyBatch(batch, owner)
  }

  /**
   * Serves the store on a new socket (lib/transports/socket.js is the
   * other end) and answers what workers need to connect: an unguessable
   * name and token. Answers null (IPC is then used) when the socket cannot
   * be set up.
   */
  listen() {
    const socket = {
      name: `sharedmemory-${process.pid}-${crypto.randomBytes(8).toString('hex')}`,
      token: crypto.randomBytes(32).toString('hex'),
    }
    try {
      this.#native.serveSocket(socket.name, socket.token)
      return socket
    } catch (err) {
      process.emitWarning(`sharedmemory: ${err.message}; workers will use cluster IPC`, 'SharedMemoryWarning')
      return null
    }
  }

  /**
   * The segment this store is published to, for workers to map read-only
   * (lib/shared-reads.js): {pid, fd}, or null when it is not published.
   */
  segment() {
    const fd = this.#native.segmentFd
    return fd === null || fd === undefined ? null : { pid: process.pid, fd, window: this.#useWindow }
  }

  /**
   * Serves the store on the socket `name` (an elected store's well-known
   * name, lib/election.js) to clients presenting `token`. Answers false
   * when another process holds the name: binding it is the election. With
   * `lockFile`, holding that file's lock is the election, and `name` the
   * path of the socket file. Throws on any other failure.
   */
  tryServe(name, token, lockFile = null) {
    return this.#native.tryServeSocket(name, token, lockFile ?? undefined)
  }

  /**
   * This process closed the store: the other threads still using it
   * (join) fail from now on with ERR_HOST_EXITED, and look for the store again.
   */
  retire() {
    if (this.#persistence) this.#persistence.handOver()
    this.#native.retire()
  }

  /** Whether retire() was called, in any thread. */
  get retired() {
    return this.#native.retired
  }

  /** A thread that joined the store leaves it (close()): its locks pass on, its watches end. */
  leave() {
    this.#native.disconnect(this.local)
  }

  /** Starts the fencing tokens of this store's locks in `epoch` (src/locks.rs). */
  setEpoch(epoch) {
    this.#native.setEpoch(epoch)
  }

  /**
   * This process now hosts the store for good (a master at init(), an
   * elected host once it holds the name, after any takeover): with the
   * persist option, the last snapshot is loaded and snapshots are written
   * from now on (lib/persistence.js). Answers what loading did, or null
   * without persist.
   */
  beginHosting() {
    // A thread joining its process's store (config null) leaves persistence to the process's main thread.
    const { persist, serialization } = this.#config || {}
    if (!persist) return null
    if (!this.#persistence) this.#persistence = new Persistence(this.#native, persist, serialization)
    return this.#persistence.loaded
  }

  /**
   * Stops serving the socket (listen() or tryServe()): the name is free,
   * every socket client is disconnected. With persist, the store is handed
   * over first: the last snapshot is written, and nothing is applied
   * after it.
   */
  stopServing() {
    if (this.#persistence) this.#persistence.handOver()
    this.#native.stopServing()
  }

  /** Takes every live entry of a dead host's segment (a SharedReader still mapping it); answers how many. */
  importFrom(reader) {
    return this.#native.importFrom(reader)
  }

  stats() {
    return this.#native.stats()
  }
}

module.exports = { HostedStore }
