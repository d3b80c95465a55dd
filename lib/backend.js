'use strict'

// The backend contract: what a controller (lib/controller.js) needs from
// whatever serves its requests. The controller turns every public call
// into Request objects (lib/ops.js) and hands them to its backend; the
// backend answers them. Nothing else crosses this seam.
//
// Backends today:
//   lib/backends/batching.js  BatchingBackend: numbers requests, sends the
//                             requests of one event-loop turn as one batch
//                             over a transport (socket, IPC, the relay)
//                             and matches the replies. Every worker uses it.
//   lib/backends/direct.js    DirectBackend: the process that hosts the
//                             store (master, or the manager worker) calls
//                             it in its own thread.
//   lib/backends/elected.js   ElectedBackend: a store found by name or a
//                             PM2 app's: batching over the store itself
//                             while this process is the elected host, over
//                             a socket to the host otherwise; re-elects
//                             when the host goes.
//   lib/backends/redis.js     RedisBackend: init({redis}) in any process:
//                             batching over a Rust client of a Redis
//                             server (src/redis/), with an optional
//                             near-cache (lib/near-cache.js).
//
// Where a new backend plugs in (Redis, a shared-memory reader, a fake for
// tests): write an object with the members below and pass it to
// createController(backend, options) (lib/create.js); index.js picks the
// backend for each role at init(). Route by OPS[request.op] (readOnly,
// mayWait, ...) rather than by op name where you can. See
// __test__/unit/fake-backend.js for a complete, small one.
//
// The contract (every member is required):
//
//   transport: string
//     How this process reaches the store, as controller.transport shows it:
//     'local', 'socket', 'ipc', or the backend's own name.
//
//   capabilities: {sync, atomicBatch, lockReleaseOnExit, watchValues, lruByCount}
//     What this backend does (see CAPABILITIES below), frozen. It may be
//     replaced once, when the backend becomes ready (a worker learns at the
//     handshake whether it has a socket, and so sync calls).
//
//   serialization: 'json' | 'advanced'
//     How values are encoded in this store (the init() option); the
//     controller encodes and decodes with it.
//
//   maxValueSize: number | undefined
//     The largest encoded value (bytes) the store takes; undefined until
//     known. The controller refuses larger values before sending them.
//
//   ready(): Promise<void>
//     Resolves once requests are served and sync calls can be made;
//     rejects (ERR_NO_HOST, ERR_SERIALIZATION_MISMATCH, ...) when they
//     never will be.
//
//   request(request: Request): Promise<any>
//     Queues one request and answers a promise of request.map(answer) (or
//     the answer itself without a map), where `answer` is the store's
//     reply value as the table in src/protocol.rs defines it (undefined
//     for "nothing"). Failures reject with a SharedMemoryError. Requests
//     are applied in the order they were made; those made in one event-loop
//     turn travel together, and with atomicBatch are applied as one step.
//     The op need not be applied when request() returns (the batching
//     backends apply it at the end of the turn). A read may be answered at
//     once, as a resolved promise (from a shared segment), but a backend
//     must let the event loop turn now and then however many reads a
//     loop awaits (lib/backends/batching.js: after 256). A failure is marked handled (a
//     caller may ignore the promise without an unhandled rejection). A
//     request whose op is mayWait may take `request.wait` ms on top of the
//     timeout before it fails. It should not throw; a throw is taken as a
//     rejection by the controller.
//     The hot path: the controller calls it once per get/set, so a backend
//     should not allocate more per request than it must (the batching
//     backend: one pending entry, its promise, and the request's text).
//
//   requestSync(requests: Request[]): any[]
//     Applies the whole array as one trip (one atomic step with
//     atomicBatch), after every request queued before it, blocking until
//     the answers come; answers request.map(answer) for each, in order.
//     Throws the first failure (ERR_NOT_READY before ready(),
//     ERR_SYNC_UNAVAILABLE without the sync capability, or a request's own).
//
//   watch(pattern: string, ns: string | null, listener): {id, started}
//     Starts a watch on the keys of namespace `ns` matching `pattern` (a
//     key or a Redis glob): listener({key, kind, value}) for each change,
//     in the order the store applied them (kind 'set' carries the value as
//     the store keeps it, decoded by the controller). `started` resolves
//     once changes from then on are seen.
//
//   unwatch(id, ns): Promise<boolean>
//     Stops the watch `id`: its listener is not called again.
//
//   onWatchOverflow: null | ((lost: number) => void)
//     Set by the root controller: called when watch events were dropped
//     because this process fell behind.
//
//   close(): Promise<void>
//     Ends this process's part (controller.close() calls it): pending and
//     later requests fail with ERR_CLOSED, its connections close, and a
//     hosting process stops serving others (the master's MasterHost, an
//     elected host's socket; see the onClose option of the batching
//     backend). A request already sent may or may not have been applied.
//
//   closed: boolean (optional)
//     Whether close() was called; init() starts afresh after it.
//
//   role: string (optional)
//     What controller.role says, for a backend whose part can change (the
//     elected backend: 'master' while it hosts, else 'worker').
//
//   readNow(ns: string | null, key: string, sync: boolean): any (optional)
//     The hot path of getSync() (sync true) and get() for a string key of
//     namespace `ns`, with no Request built: the value, decoded (undefined
//     when missing), when the backend can answer it at once and in order
//     (the batching backend: from the shared segment, while nothing else of
//     this process is in flight); NOT_READ otherwise, and then the
//     controller takes request()/requestSync(). Only for the 'json'
//     serialization (the controller does not call it for 'advanced').

/**
 * What a backend may or may not do, each a boolean in its `capabilities`.
 * The controller's behaviour does not branch on them today; they say what
 * an app (and a test) can rely on with that backend.
 */
const CAPABILITIES = Object.freeze({
  /** requestSync works (the *Sync methods): the socket transport, or the hosting process itself. */
  sync: 'sync calls (getSync() and the like) can be made',
  /** The requests of one batch (one turn, or one requestSync) are applied as one step: no other process sees half. */
  atomicBatch: 'the requests of one batch are applied as one atomic step',
  /** A lock whose holder process exits passes on at once, without waiting for its lease. */
  lockReleaseOnExit: 'the locks of a process that exits are released at once',
  /** Watch events of kind 'set' carry the new value. */
  watchValues: "watch events carry the value that was set",
  /** The cache option's `max` bounds the number of entries, evicting the least recently used. */
  lruByCount: 'cache.max evicts the least recently used entries by count',
})

/** A frozen capabilities object: every name of CAPABILITIES, true where `declared` says so. */
function capabilities(declared) {
  const out = {}
  for (const name of Object.keys(declared)) {
    if (!(name in CAPABILITIES)) throw new TypeError(`sharedmemory: unknown backend capability ${name}`)
  }
  for (const name of Object.keys(CAPABILITIES)) out[name] = declared[name] === true
  return Object.freeze(out)
}

/** What readNow() answers when it does not answer: take request() or requestSync(). */
const NOT_READ = Symbol('not read')

const MEMBERS = ['ready', 'request', 'requestSync', 'watch', 'unwatch', 'close']

/** Throws a TypeError naming what `backend` lacks of the contract; once per controller, not per call. */
function checkBackend(backend) {
  if (backend === null || typeof backend !== 'object') throw new TypeError('sharedmemory: a backend is an object')
  const missing = MEMBERS.filter((name) => typeof backend[name] !== 'function')
  if (typeof backend.transport !== 'string') missing.push('transport')
  if (!backend.capabilities || typeof backend.capabilities !== 'object') missing.push('capabilities')
  if (missing.length > 0) throw new TypeError(`sharedmemory: the backend lacks ${missing.join(', ')} (see lib/backend.js)`)
  return backend
}

module.exports = { CAPABILITIES, NOT_READ, capabilities, checkBackend }
