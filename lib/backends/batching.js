'use strict'

// The batching backend (the contract is in lib/backend.js): requests go to
// the store as batches of text over a transport. It numbers requests,
// sends all requests made in one event-loop turn as one batch, matches
// replies to callers (lib/pending.js, which also enforces deadlines) and
// hands watch events to their listeners (lib/subscriptions.js).
//
// The batch format is src/protocol.rs's: a request is
// `[id, op, key, arg]` or `[id, op, key, arg, options]`, a reply `[id, 0]`
// (done), `[id, 1, value]` (done, with a value) or `[id, 2, code, message]`
// (failed). The host also pushes, outside any reply: '!' and a reply batch
// (the requests answered later: a lock granted to a waiter), or '~' and
// watch events.
//
// A transport has: name, attach(backend), send(batchText) -> boolean
// (false: the channel is closed), hello() (ask the host again whether it
// serves), and, where it can block for a reply, sendSync(batchText,
// timeout) -> replyText. It calls back backend.receive(text) for every
// reply batch or push and backend.down(code, message) when the host is
// gone. The handshake (lib/handshake.js) calls backend.hostReady(limits)
// once the host serves, possibly after useTransport(socket).
// Transports: lib/transports/socket.js, lib/transports/ipc.js, the relay's
// (lib/relay.js) and the hosted store's (lib/backends/direct.js).

const { NOT_READ, capabilities } = require('../backend')
const { SharedMemoryError } = require('../errors')
const { LOSE } = require('../lock')
const { Pending, succeed, fail, rejected } = require('../pending')
const { Request } = require('../ops')
const { mismatch } = require('../serialization')
const { SharedReads } = require('../shared-reads')
const { Subscriptions } = require('../subscriptions')

/** The ops a worker may answer from the host's shared segment (lib/shared-reads.js). */
const SHARED_READS = Object.freeze({ get: true, has: true, mget: true, ttl: true })
/** A batch of more requests than this means the process pipelines: its async reads join batches (see request()). */
const PIPELINED = 4
/** Reads from the segment answered at once per turn of the event loop (see #answerLater). */
const ANSWER_AT_ONCE = 256
/** How many reads from the segment go by between two questions whether the report of them is full. */
const FULL_CHECK = 64
/**
 * Reports of reads are held back while this many batches wait for their
 * replies on a transport that counts them (the socket): a host that stopped
 * reading must not fill the socket with them (a write would then block
 * until the connection is given up). Past that, held-back entries are
 * forgotten once a report is full: recency stays as it was, counts are kept.
 */
const MAX_UNANSWERED = 4
/** How often a segment the host offered and this process could not map is tried again (ms, on a reply). */
const SEGMENT_RETRY_MS = 1000

/** What #readShared answers when the segment cannot answer. */
const NOT_SHARED = Symbol('not shared')

/** A read from the segment whose value could not be decoded: the call fails with `error`. */
class Failure {
  constructor(error) {
    this.error = error
  }
}

const CONNECTING = 'connecting'
const READY = 'ready'
const UNREACHABLE = 'unreachable'

class BatchingBackend {
  #transport
  #timeout
  #state = CONNECTING
  #connectTimer = null
  #pending
  #subscriptions = new Subscriptions()
  // Requests waiting for the next flush: their ids, and their encoded texts.
  #queueIds = []
  #queue = []
  #nextId = 1
  #flushScheduled = false
  #readyWaiters = []
  #capabilities
  /** The largest encoded value the host takes; known once it serves. */
  maxValueSize = undefined
  /** How values are encoded: this process's `serialization` option ('json' or 'advanced'). */
  serialization
  #refusal = null // the error every call fails with: the host's serialization differs, or close() was called
  #failedAtOnce = 0 // calls failed before any I/O since the event loop last turned (see #failAtOnce)
  #wantsSharedReads // this process's sharedReads option
  #reads = null // the host's shared segment, mapped (lib/shared-reads.js), while it may be read
  #lostReads = null // the segment of the host that went away last, until another host serves
  #segmentOffer = null // the segment the host offered and this process could not map yet (see #mapOffered)
  #usesScheduled = false // a #sendUses is due on the next tick
  #usesPending = false // reads from the segment are written down and not yet queued for the host
  #readsNoted = 0 // reads from the segment: whether the report is full is asked every FULL_CHECK of them
  #answers = [] // gets read from the segment this turn, answered together once the event loop turns
  #answeredNow = 0 // reads from the segment answered at once since the event loop last turned
  #pipelining = false // whether the last batch sent carried many requests (see request())
  #connectTimeout
  #transports = new Set() // every transport attached so far (an IPC worker keeps its IPC one beside its socket)
  #onClose
  #closed = false
  #held = new Map() // Lock → when its lease ends (ms, performance.now()): the locks to tell when the host goes
  #pruneAt = 64 // #held is pruned of ended leases when it grows to this size
  #lostHost = false // down() happened: the next host to serve gets the watches and bounds again
  #bounds = new Map() // namespace -> the bounds (ns(name, {max, maxBytes})) this process last gave it

  /**
   * @param transport see above
   * @param {object} options
   * @param {number} options.timeout ms a request may wait for its reply
   * @param {number} options.connectTimeout ms to wait for the host before calls fail with ERR_NO_HOST
   * @param {string} [options.serialization] this process's option
   * @param {object} [options.ready] the host's limits when it serves already ({maxValueSize, serialization})
   * @param {false|{cacheBytes: number}} [options.sharedReads] whether gets may be read from a segment the host publishes (and its reader's options)
   * @param {() => void} [options.onClose] called once by close(), before pending requests fail
   *   (the hosting process stops serving others there)
   * @param {boolean} [options.keepAlive] keep the process alive while a request waits (lib/pending.js)
   */
  constructor(
    transport,
    { timeout, connectTimeout, ready = null, serialization = 'json', sharedReads = false, onClose = null, keepAlive = false },
  ) {
    this.serialization = serialization
    this.#wantsSharedReads = sharedReads
    this.#timeout = timeout
    this.#connectTimeout = connectTimeout
    this.#onClose = onClose
    this.#pending = new Pending(timeout, (message) => this.#timedOut(message), { keepAlive })
    this.#transport = transport
    this.#capabilities = declare(transport)
    this.#transports.add(transport)
    transport.attach(this)
    if (ready) this.hostReady(ready)
    else this.#startConnectTimer()
  }

  // ---- The backend contract (lib/backend.js) ----

  /** The transport's name once the host serves; 'connecting' until then (and while it is unreachable). */
  get transport() {
    return this.#state === READY ? this.#transport.name : CONNECTING
  }

  get capabilities() {
    return this.#capabilities
  }

  get onWatchOverflow() {
    return this.#subscriptions.onOverflow
  }

  set onWatchOverflow(listener) {
    this.#subscriptions.onOverflow = listener
  }

  ready() {
    if (this.#refusal) return Promise.reject(this.#refused())
    if (this.#state === READY) return Promise.resolve()
    if (this.#state === UNREACHABLE) return Promise.reject(noHost())
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }))
  }

  /** Queues one request for the next flush (see lib/ops.js for its fields). */
  request(request) {
    if (request.op === 'bound') this.#bounds.set(request.ns, request.arg) // sent again to a new host
    if (this.#refusal) return this.#failAtOnce(this.#refused())
    if (this.#state === UNREACHABLE) {
      this.#transport.hello()
      return this.#failAtOnce(noHost())
    }
    if (this.#reads !== null) {
      if (SHARED_READS[request.op] === true && this.#mayReadShared(false)) {
        const answer = this.#readShared(request)
        if (answer !== NOT_SHARED) return this.#answerLater(request.map, answer)
      }
      // Reads made from the segment before this request reach the host before it.
      if (this.#usesPending) this.#queueUses()
    }
    return this.#enqueue(request)
  }

  /**
   * See lib/backend.js: a get from the shared segment, when this process
   * may read it there, as requestSync() and request() decide. An async one
   * counts among the reads answered at once in this turn (#answerLater):
   * past ANSWER_AT_ONCE, request() takes it and answers it on the next.
   */
  readNow(ns, key, sync) {
    if (this.#refusal || this.#state !== READY || !this.#mayReadShared(sync)) return NOT_READ
    if (!sync) {
      if (this.#answeredNow >= ANSWER_AT_ONCE) return NOT_READ
      this.#countAnsweredNow()
    }
    const value = this.#reads.read(ns, key)
    if (value !== NOT_READ) this.#reportUses()
    return value
  }

  /**
   * Whether a read may come from the shared segment now (readNow, request,
   * requestSync all ask here). Only while nothing else of this process is
   * in flight: a read from the segment is applied at once, so it must not
   * overtake a request made before it. And an async one only while the
   * process is not pipelining (its last batch was small): among pipelined
   * requests it would save little (it joins a batch that travels anyway)
   * and cost its report.
   */
  #mayReadShared(sync) {
    if (this.#reads === null || this.#pending.size > 0) return false
    return sync ? this.#capabilities.sync : !this.#pipelining
  }

  #enqueue(request) {
    const id = this.#nextId++
    const promise = this.#pending.add(id, request.map, request.wait)
    this.#queueIds.push(id)
    this.#queue.push(encodeRequest(id, request))
    if (this.#state === READY) this.#scheduleFlush()
    return promise
  }

  /**
   * Sends `requests` as one batch and blocks until its reply; requests
   * queued before are sent first, so order holds across sync and async calls.
   */
  requestSync(requests) {
    if (this.#refusal) throw this.#refused()
    if (this.#state === UNREACHABLE) throw noHost()
    if (this.#state !== READY) {
      throw new SharedMemoryError(
        'ERR_NOT_READY',
        'sharedmemory: not connected to the store yet; await controller.ready() before sync calls ' +
          '(a worker forked after its master called init() is connected from its first line)',
      )
    }
    if (!this.#capabilities.sync) {
      throw new SharedMemoryError(
        'ERR_SYNC_UNAVAILABLE',
        `sharedmemory: sync calls need the socket transport; this process uses ${this.#transport.name}`,
      )
    }
    const count = requests.length
    if (count === 1 && SHARED_READS[requests[0].op] === true && this.#mayReadShared(true)) {
      // From the segment a sync read waits for nothing.
      const answer = this.#readShared(requests[0])
      if (answer !== NOT_SHARED) {
        if (answer instanceof Failure) throw answer.error
        return [requests[0].map ? requests[0].map(answer) : answer]
      }
    }
    if (this.#reads !== null && this.#usesPending) this.#queueUses()
    this.#flush() // a sync call's own writes are answered before it returns: nothing to note
    let batch
    if (count === 1) batch = `[${encodeRequest(this.#nextId++, requests[0])}]`
    else {
      const texts = new Array(count)
      for (let i = 0; i < count; i++) texts[i] = encodeRequest(this.#nextId++, requests[i])
      batch = `[${texts.join(',')}]`
    }
    const replies = JSON.parse(this.#transport.sendSync(batch, this.#timeout))
    // One reply per request, in order (src/protocol.rs); the first failure is thrown.
    for (let i = 0; i < count; i++) {
      const reply = replies[i]
      if (!Array.isArray(reply)) throw new SharedMemoryError('ERR_PROTOCOL', 'sharedmemory: a sync reply batch lacks a reply')
      if (reply[1] === 2) throw new SharedMemoryError(String(reply[2]), `sharedmemory: ${reply[3]}`)
      const map = requests[i].map
      const value = reply[1] === 1 ? reply[2] : undefined
      replies[i] = map ? map(value) : value // the reply array becomes the answers
    }
    if (replies.length > count) replies.length = count
    return replies
  }

  /**
   * `lock` (lib/lock.js) is held for `leaseMs` from now: if the host goes
   * meanwhile, it is told (LOSE). Locks whose lease has ended are dropped
   * as the table grows, so it is bounded by the locks really held.
   */
  holdLock(lock, leaseMs) {
    const now = performance.now()
    this.#held.set(lock, now + leaseMs)
    if (this.#held.size < this.#pruneAt) return
    for (const [held, until] of this.#held) if (until <= now) this.#held.delete(held)
    this.#pruneAt = Math.max(64, this.#held.size * 2)
  }

  /** `lock` was released (or its extension refused): nothing to tell it. */
  forgetLock(lock) {
    this.#held.delete(lock)
  }

  watch(pattern, ns, listener) {
    const id = this.#subscriptions.add(listener, pattern, ns)
    const started = this.request(new Request('watch', ns, JSON.stringify(pattern), String(id)))
    started.catch(() => this.#subscriptions.delete(id))
    return { id, started }
  }

  unwatch(id, ns) {
    if (!this.#subscriptions.delete(id)) return Promise.resolve(false)
    return this.request(new Request('unwatch', ns, null, String(id)))
  }

  /**
   * Ends this process's part: what is pending and every later call fail
   * with ERR_CLOSED (a request already sent may still be applied: its
   * outcome is unknown), and every transport that has a close() is closed
   * (a socket, this process's IPC listeners).
   */
  close() {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    const err = new SharedMemoryError(
      'ERR_CLOSED',
      'sharedmemory: close() was called in this process; requests already sent may or may not have been applied',
    )
    let failure = null
    try {
      if (this.#onClose) this.#onClose()
    } catch (thrown) {
      failure = thrown
    }
    this.#refuse(err)
    for (const transport of this.#transports) {
      if (typeof transport.close === 'function') transport.close()
    }
    return failure ? Promise.reject(failure) : Promise.resolve()
  }

  /** Whether close() was called. */
  get closed() {
    return this.#closed
  }

  // ---- What transports and the handshake call ----

  /** 'connecting', 'ready' or 'unreachable'. */
  get state() {
    return this.#state
  }

  /**
   * Switches to another transport (the handshake, to a socket; an elected
   * backend, to its new host): only before the first request is sent, or
   * after down() failed everything sent over the previous one. A previous
   * transport that has detach() hears nothing more from it (what it reports
   * late is not for this backend any more).
   */
  useTransport(transport) {
    const previous = this.#transport
    if (previous !== transport && typeof previous.detach === 'function') {
      previous.detach()
      this.#transports.delete(previous)
    }
    this.#transport = transport
    this.#capabilities = declare(transport)
    this.#transports.add(transport)
    transport.attach(this)
  }

  /**
   * After down(): waits for a host again (as at the start: requests queue,
   * and fail with ERR_NO_HOST if none serves within connectTimeout). An
   * elected backend calls it while the survivors elect a new host.
   */
  reconnect() {
    if (this.#refusal || this.#state === READY) return
    this.#state = CONNECTING
    this.#startConnectTimer()
  }

  /** Every pending and later call fails with `err` (a setup that can never work: see #refuse). */
  refuseWith(err) {
    if (!this.#refusal) this.#refuse(err)
  }

  /**
   * The host serves the store; `limits` carries its maxValueSize and
   * serialization, the segment it publishes its store to, if it does, and
   * its socket ({name, token}), if it serves one: the segment's descriptor
   * is passed over it.
   */
  hostReady(limits) {
    if (this.refuses(limits.serialization)) return
    this.maxValueSize = limits.maxValueSize
    this.#dropLostSegment()
    if (this.#wantsSharedReads && limits.segment && this.#reads === null) {
      this.#segmentOffer = { segment: limits.segment, socket: limits.socket, at: 0 }
      this.#mapOffered()
    }
    if (this.#state === READY) return
    this.#state = READY
    this.#stopConnectTimer()
    if (this.#lostHost) this.#restoreOnNewHost()
    if (this.#queue.length > 0) this.#scheduleFlush()
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve()
  }

  /**
   * Whether the host's `serialization` (as its welcome announced it) differs
   * from this process's. If so, nothing queued is sent, and every call and
   * ready() fail with ERR_SERIALIZATION_MISMATCH from now on: values written
   * with one setting cannot be read with the other.
   */
  refuses(hostSerialization) {
    const err = mismatch(this.serialization, hostSerialization)
    if (!err) return false
    this.#refuse(err)
    return true
  }

  /** A reply batch, or a push, arrived. */
  receive(text) {
    if (text[0] === '~') return this.#subscriptions.deliver(text.slice(1))
    if (text[0] === '!') text = text.slice(1)
    let replies
    try {
      replies = JSON.parse(text)
    } catch {
      return // not from us; our requests will time out rather than be guessed at
    }
    if (!Array.isArray(replies)) return
    if (this.#reads !== null) this.#reads.refresh() // a write may have made the segment grow
    else if (this.#segmentOffer !== null) this.#mapOffered()
    for (const reply of replies) {
      const entry = Array.isArray(reply) && this.#pending.take(reply[0])
      if (!entry) continue // answered already, timed out, or not ours
      if (reply[1] === 0) succeed(entry, undefined)
      else if (reply[1] === 1) succeed(entry, reply[2])
      else fail(entry, new SharedMemoryError(String(reply[2]), `sharedmemory: ${reply[3]}`))
    }
  }

  /** The host is gone: everything pending fails now, later calls fail at once. */
  down(code, message) {
    // What the segment shows is the dead host's: not read any more, but kept
    // until a new host serves, which may take it over (takeLostSegment).
    if (this.#reads !== null) {
      this.#dropLostSegment()
      this.#lostReads = this.#reads
      this.#reads = null
    }
    this.#segmentOffer = null // the next host offers its own
    this.#state = UNREACHABLE
    this.#stopConnectTimer()
    this.#queue.length = this.#queueIds.length = 0
    this.#failAll(() => new SharedMemoryError(code, `sharedmemory: ${message}`))
    // The locks and watches held on that host are gone with it.
    this.#lostHost = true
    this.#subscriptions.staleAll()
    const now = performance.now()
    const held = [...this.#held].filter(([, until]) => until > now)
    this.#held.clear()
    for (const [lock] of held) {
      lock[LOSE](new SharedMemoryError('ERR_HOST_EXITED', `sharedmemory: the lock on ${JSON.stringify(lock.key)} was held on a host that went away (${message})`))
    }
  }

  /**
   * A new host serves after down(): the namespace bounds this process set
   * are set there again, and every watch is started there again, ahead of
   * what was queued meanwhile; a watch's listener hears {kind: 'reset'}
   * once the new host has it.
   */
  #restoreOnNewHost() {
    this.#lostHost = false
    const stale = this.#subscriptions.takeStale()
    if (stale.length === 0 && this.#bounds.size === 0) return
    const ids = []
    const texts = []
    // The namespace bounds this process gave the old host: the new one has only what it took over.
    for (const [ns, arg] of this.#bounds) {
      const requestId = this.#nextId++
      this.#pending.add(requestId, undefined, undefined).catch(() => {})
      ids.push(requestId)
      texts.push(encodeRequest(requestId, new Request('bound', ns, null, arg)))
    }
    for (const { id, pattern, ns } of stale) {
      const requestId = this.#nextId++
      const started = this.#pending.add(requestId, undefined, undefined)
      started.then(
        () => this.#subscriptions.reset(id),
        () => this.#subscriptions.markStale(id),
      )
      ids.push(requestId)
      texts.push(encodeRequest(requestId, new Request('watch', ns, JSON.stringify(pattern), String(id))))
    }
    this.#queueIds.unshift(...ids)
    this.#queue.unshift(...texts)
    this.#scheduleFlush()
  }

  // ---- Inside ----

  #refuse(err) {
    this.#reads = null
    this.#dropLostSegment()
    this.#refusal = err
    this.#stopConnectTimer()
    this.#queue.length = this.#queueIds.length = 0
    this.#failAll(() => this.#refused())
  }

  /**
   * A call that fails before any I/O. Awaited in a loop, such calls never
   * let the event loop turn, so the process would never hear that its
   * master has gone (cluster's 'disconnect') and would spin for ever. So
   * the first 64 since the event loop last turned fail at once, and later
   * ones on its next turn.
   */
  #failAtOnce(err) {
    if (this.#failedAtOnce++ === 0) setImmediate(() => (this.#failedAtOnce = 0))
    if (this.#failedAtOnce <= 64) return rejected(err)
    const promise = new Promise((resolve, reject) => setImmediate(reject, err))
    promise.catch(noop)
    return promise
  }

  /**
   * The segment of the host that went away (see down()), for a process
   * elected to host next to take its entries over; it is then this
   * caller's to close. Null when there is none.
   */
  takeLostSegment() {
    const lost = this.#lostReads
    this.#lostReads = null
    return lost
  }

  /**
   * Maps the segment the host offered, if it can; when it cannot (the
   * host did not pass the descriptor in time: busy or starting), tries
   * again on a reply at most every SEGMENT_RETRY_MS, while the host serves.
   */
  #mapOffered() {
    const offer = this.#segmentOffer
    const now = performance.now()
    if (now < offer.at) return
    this.#reads = SharedReads.open(offer.segment, offer.socket, this.#wantsSharedReads.cacheBytes)
    if (this.#reads !== null) this.#segmentOffer = null
    else offer.at = now + SEGMENT_RETRY_MS
  }

  #dropLostSegment() {
    if (this.#lostReads !== null) this.#lostReads.close()
    this.#lostReads = null
  }

  /**
   * Sends the reads made from the shared segment to the host, as uses:
   * after this turn, or at once when many wait (a long run of sync reads).
   */
  #reportUses() {
    this.#usesPending = true
    // Asking the reader whether its report is full is a call into Rust of its own: once every
    // FULL_CHECK reads is enough (a full report is a soft bound, and its size is bounded anyway).
    if (++this.#readsNoted % FULL_CHECK === 0 && this.#reads.full) return this.#sendUses()
    if (this.#usesScheduled) return
    this.#usesScheduled = true
    process.nextTick(() => this.#sendUses())
  }

  /** A read from the segment, answered now or once the event loop has turned (all of a turn's together). */
  #answerLater(map, answer) {
    // The first reads since the event loop last turned are answered at
    // once, so lanes of awaited calls carry on in this turn and what they
    // send next joins this turn's batch; past that, on the next turn, so a
    // loop of awaited gets still lets timers and I/O run.
    this.#countAnsweredNow()
    if (this.#answeredNow <= ANSWER_AT_ONCE && !(answer instanceof Failure)) {
      try {
        return Promise.resolve(map ? map(answer) : answer)
      } catch (err) {
        return rejected(err)
      }
    }
    let settle
    const promise = new Promise((resolve, reject) => (settle = { resolve, reject, map, answer }))
    if (this.#answers.push(settle) === 1) setImmediate(() => this.#answerAll())
    return promise
  }

  /** One more read answered at once in this turn of the event loop (the count starts again at the next). */
  #countAnsweredNow() {
    if (this.#answeredNow++ === 0) setImmediate(() => (this.#answeredNow = 0))
  }

  #answerAll() {
    const answers = this.#answers
    this.#answers = []
    for (const { resolve, reject, map, answer } of answers) {
      if (answer instanceof Failure) {
        reject(answer.error)
        continue
      }
      try {
        resolve(map ? map(answer) : answer)
      } catch (err) {
        reject(err)
      }
    }
  }

  /**
   * The store's answer to a get, has, mget or ttl read from the segment (as the
   * reply would carry it), a Failure when it cannot be decoded, or
   * NOT_SHARED when the segment cannot answer (ask the host).
   */
  #readShared(request) {
    const reads = this.#reads
    try {
      if (request.op === 'ttl') {
        const left = reads.ttl(request.ns, request.key)
        return left === null ? NOT_SHARED : left
      }
      if (request.op === 'has') {
        const text = reads.peek(request.ns, request.key)
        return text === null ? NOT_SHARED : text !== undefined
      }
      if (request.op === 'get') {
        const text = reads.get(request.ns, request.key)
        if (text === null) return NOT_SHARED
        this.#reportUses()
        return text === undefined ? undefined : JSON.parse(text)
      }
      // mget: every key from here, or (when the segment fails midway: it
      // was replaced or closed) the whole call from the host.
      const keys = JSON.parse(request.arg).map((key) => JSON.stringify(key))
      const rows = new Array(keys.length)
      for (let i = 0; i < keys.length; i++) {
        const text = reads.get(request.ns, keys[i])
        if (text === null) return NOT_SHARED
        rows[i] = text === undefined ? [0] : [1, JSON.parse(text)]
      }
      this.#reportUses()
      return rows
    } catch (err) {
      return new Failure(err)
    }
  }

  #sendUses() {
    this.#usesScheduled = false
    if (this.#reads === null || !this.#usesPending) return
    this.#queueUses()
    this.#flush()
  }

  /**
   * Queues the reads' reports. They wait for no answer (nobody awaits
   * them, and a lost one only leaves recency as it was), so they hold no
   * pending entry and never count as in flight: their replies are dropped.
   */
  #queueUses() {
    const transport = this.#transport
    if (typeof transport.unanswered === 'function' && transport.unanswered() >= MAX_UNANSWERED) {
      if (this.#reads.full) this.#reads.forgetUses()
      return // still pending: sent with a later request, or on the next turn
    }
    this.#usesPending = false
    const used = this.#reads.takeUses()
    if (used === null) return
    this.#queueIds.push(0)
    this.#queue.push(encodeRequest(0, used))
    if (this.#state === READY) this.#scheduleFlush()
  }

  #refused() {
    return new SharedMemoryError(this.#refusal.code, this.#refusal.message)
  }

  #scheduleFlush() {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    // nextTick runs after the current operation and its promise reactions,
    // so every request made in this turn lands in one batch.
    process.nextTick(() => this.#flush())
  }

  #flush() {
    this.#flushScheduled = false
    if (this.#queue.length === 0 || this.#state !== READY) return
    // A request that failed while it waited here (its deadline passed
    // before the host was found) must not be applied afterwards.
    const ids = this.#queueIds
    let requests = this.#queue
    // (Id 0: a report of reads, which waits for no answer.)
    const live = (id) => id === 0 || this.#pending.has(id)
    if (!ids.every(live)) requests = requests.filter((_, i) => live(ids[i]))
    this.#pipelining = requests.length > PIPELINED
    const batch = `[${requests.join(',')}]`
    this.#queueIds = []
    this.#queue = []
    if (requests.length === 0) return
    if (!this.#transport.send(batch)) {
      this.down('ERR_HOST_EXITED', 'the channel to the process serving the store is closed')
    }
  }

  #failAll(makeError) {
    this.#pending.failAll(makeError)
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(makeError())
  }

  /** No host within connectTimeout: what waits fails, later calls fail at once (until a late host says it serves). */
  #giveUp() {
    this.#connectTimer = null
    if (this.#state !== CONNECTING) return
    this.#state = UNREACHABLE
    this.#queue.length = this.#queueIds.length = 0
    this.#failAll(noHost)
  }

  #startConnectTimer() {
    this.#stopConnectTimer()
    this.#connectTimer = setTimeout(() => this.#giveUp(), this.#connectTimeout + 1)
    this.#connectTimer.unref()
  }

  #stopConnectTimer() {
    if (this.#connectTimer) clearTimeout(this.#connectTimer)
    this.#connectTimer = null
  }

  /** What a request whose deadline passed fails with: a timeout, or no host when none was ever found. */
  #timedOut(message) {
    return this.#state === READY ? new SharedMemoryError('ERR_TIMEOUT', `sharedmemory: ${message}`) : noHost()
  }
}

/**
 * What a batching backend can do over `transport`: what the Rust store
 * behind every transport does (src/host.rs: a batch applied under one
 * lock, a departed owner's locks passed on at once, events with values, an
 * LRU bound by count), and sync calls where the transport can block.
 */
function declare(transport) {
  return capabilities({
    sync: typeof transport.sendSync === 'function',
    atomicBatch: true,
    lockReleaseOnExit: true,
    watchValues: true,
    lruByCount: true,
    // A transport to a store that is not one of ours (Redis) says what it lacks.
    ...transport.capabilities,
  })
}

/** A request as batch text: `[id,"op",key,arg]`, or with its options `[id,"op",key,arg,options]`. */
function encodeRequest(id, request) {
  const opts = optionsText(request.ns, request.options)
  return opts === undefined
    ? `[${id},"${request.op}",${request.key},${request.arg}]`
    : `[${id},"${request.op}",${request.key},${request.arg},${opts}]`
}

/** A request's options as JSON text, its namespace included; undefined when there are none. */
function optionsText(ns, options) {
  if (options === undefined && ns === null) return undefined
  const opts = {}
  if (ns !== null) opts.ns = ns
  for (const name in options) if (options[name] !== undefined && options[name] !== false) opts[name] = options[name]
  return Object.keys(opts).length > 0 ? JSON.stringify(opts) : undefined
}

function noop() {}

function noHost() {
  return new SharedMemoryError(
    'ERR_NO_HOST',
    'sharedmemory: no process is serving the store. Call init() in the cluster master too ' +
      '(before or after forking), or, with {manager: id}, in that worker, within connectTimeout.',
  )
}

module.exports = { BatchingBackend, encodeRequest }
