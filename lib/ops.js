'use strict'

// What the controller asks a backend for: one Request object per store
// operation, and a table of what each operation is (which ones only read,
// which may be answered later, ...), so a backend can route by kind
// without knowing every op by heart.
//
// A Request says "do `op` on `key` in namespace `ns`"; it is built by the
// controller (lib/controller.js) and handed to a backend (lib/backend.js
// describes the contract). Keys, arguments and values are already the JSON
// text the store keeps (lib/codec.js made them), so the batching backend
// writes them into a batch as they are, and a backend that keeps text
// (Redis, a shared-memory reader) stores them as they are.

/**
 * op → flags, for every op of the batch format (the table in
 * src/protocol.rs says what `key` and `arg` hold and what the reply is).
 *
 * - readOnly: changes no stored data (an expired entry may still be dropped
 *   on the way). A backend may serve it from a replica or a shared-memory
 *   view, and may run it beside writes of other processes.
 * - touches: a read that counts as a use of the key (LRU order, sliding
 *   expiry). A backend that serves it without telling the store changes
 *   which keys are evicted first.
 * - keyed: `key` is a key; otherwise it is null (the op covers a whole
 *   namespace, or `arg` carries the keys).
 * - mayWait: the reply may come long after the batch's other replies (a
 *   lock that has to wait); the request carries how long it may wait.
 * - owned: what it creates belongs to the calling process and ends when
 *   that process goes away (locks, watches).
 */
const OPS = Object.freeze({
  get: flags('readOnly touches keyed'),
  has: flags('readOnly keyed'),
  mget: flags('readOnly touches'),
  ttl: flags('readOnly keyed'),
  keys: flags('readOnly'),
  size: flags('readOnly'),
  stats: flags('readOnly'),
  set: flags('keyed'),
  del: flags('keyed'),
  incr: flags('keyed'),
  getset: flags('keyed'),
  cas: flags('keyed'),
  expire: flags('keyed'),
  persist: flags('keyed'),
  mset: flags(''),
  clear: flags(''),
  bound: flags(''), // ns(name, {max, maxBytes}): the namespace's own bounds
  lock: flags('keyed mayWait owned'),
  unlock: flags('keyed owned'),
  extend: flags('keyed owned'),
  watch: flags('owned'), // its key is the glob pattern
  unwatch: flags('owned'),
  used: flags('readOnly'), // reads made from the shared segment, reported (lib/shared-reads.js)
})

function flags(names) {
  const set = new Set(names.split(' ').filter(Boolean))
  return Object.freeze({
    readOnly: set.has('readOnly'),
    touches: set.has('touches'),
    keyed: set.has('keyed'),
    mayWait: set.has('mayWait'),
    owned: set.has('owned'),
  })
}

/**
 * One operation for a backend. Plain fields, set once; a backend must not
 * change them (it keeps its own bookkeeping apart).
 */
class Request {
  /**
   * @param {string} op one of OPS
   * @param {string | null} ns the namespace name, or null for the default one
   * @param {string | null} key the key as JSON text (JSON.stringify of the string); null when the op takes none
   * @param {string} arg the op's argument as JSON text (a value, an amount, `0` when unused: see src/protocol.rs)
   * @param {object} [options] the op's options ({ttl, nx, xx}); a field that is undefined or false is absent
   * @param {(value: any) => any} [map] shapes the store's answer into what the caller gets; none: the answer itself
   * @param {number} [wait] for a mayWait op: how long (ms, may be Infinity) it may wait on top of the timeout
   */
  constructor(op, ns, key, arg, options, map, wait) {
    this.op = op
    this.ns = ns
    this.key = key
    this.arg = arg
    this.options = options
    this.map = map
    this.wait = wait
  }

  /** Whether the op only reads (see OPS). */
  get readOnly() {
    return OPS[this.op].readOnly
  }
}

module.exports = { OPS, Request }
