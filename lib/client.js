'use strict'

// The request pipeline every controller uses, whatever carries its
// requests. It numbers requests, sends all requests made in one event-loop
// turn as one batch, matches replies to callers, and fails requests that
// get no reply in time. Nothing here keeps a process alive: the only timer
// is unref'd.
//
// A transport has: name, attach(client), send(batchText) -> boolean,
// hello(), and, where it can block for a reply, sendSync(batchText, timeout)
// -> replyText. It calls back client.ready(limits), client.receive(replyText)
// and client.down(code, message).

const { SharedMemoryError } = require('./errors')
const { mismatch } = require('./serialization')

const CONNECTING = 'connecting'
const READY = 'ready'
const UNREACHABLE = 'unreachable'

class Client {
  #transport
  #timeout
  #state
  #connectDeadline
  #pending = new Map() // id -> {resolve, reject, map, deadline}; insertion order is deadline order
  #patient = new Map() // the same, for requests with a deadline of their own (lock waits), in any order
  #subscriptions = new Map() // watch subscription id -> listener(event)
  #nextSubscription = 1
  /** Called with how many watch event pushes the host dropped because this process fell behind. */
  onWatchOverflow = null
  // Requests waiting for the next flush: their ids, and their encoded texts.
  #queueIds = []
  #queue = []
  #nextId = 1
  #flushScheduled = false
  #timer = null
  #timerAt = Infinity
  #readyWaiters = []
  maxValueSize = undefined
  /** How values are encoded: this process's `serialization` option ('json' or 'advanced'). */
  serialization
  #refusal = null // the error every call fails with, once the host's serialization is known to differ

  constructor(transport, { timeout, connectTimeout, ready = null, serialization = 'json' }) {
    this.serialization = serialization
    this.#transport = transport
    this.#timeout = timeout
    this.#state = CONNECTING
    this.#connectDeadline = performance.now() + connectTimeout
    transport.attach(this)
    if (ready) this.ready(ready)
    else this.#arm(this.#connectDeadline)
  }

  get state() {
    return this.#state
  }

  get transportName() {
    return this.#transport.name
  }

  /** Switches to another transport; only before the first request is sent. */
  useTransport(transport) {
    this.#transport = transport
    transport.attach(this)
  }

  /** Resolves once requests can be served (and sync calls made); rejects if the host is not found. */
  whenReady() {
    if (this.#refusal) return Promise.reject(this.#refused())
    if (this.#state === READY) return Promise.resolve()
    if (this.#state === UNREACHABLE) return Promise.reject(noHost())
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }))
  }

  /**
   * Queues one request; `key`, `arg` and `opts` (optional) are JSON text
   * (see src/protocol.rs). Resolves with the reply's value passed through
   * `map`. A request that waits on others by design (a lock) gives how
   * long it may wait (ms, may be Infinity) on top of the timeout option.
   */
  request(op, key, arg, map, opts, wait) {
    if (this.#refusal) return rejected(this.#refused())
    if (this.#state === UNREACHABLE) {
      this.#transport.hello()
      return rejected(noHost())
    }
    const id = this.#nextId++
    const own = wait !== undefined
    const deadline = performance.now() + this.#timeout + (own ? wait : 0)
    const entry = { resolve: null, reject: null, map, deadline, promise: null }
    entry.promise = new Promise((resolve, reject) => {
      entry.resolve = resolve
      entry.reject = reject
    })
    ;(own ? this.#patient : this.#pending).set(id, entry)
    this.#queueIds.push(id)
    this.#queue.push(encodeRequest(id, op, key, arg, opts))
    if (own ? deadline < Infinity : this.#pending.size === 1) this.#arm(deadline)
    if (this.#state === READY) this.#scheduleFlush()
    return entry.promise
  }

  /**
   * Like `request`, but answers the value itself, blocking until the reply
   * comes; failures are thrown. Requests queued before it are sent first,
   * so order holds across sync and async calls.
   */
  requestSync(op, key, arg, map, opts) {
    if (this.#refusal) throw this.#refused()
    if (this.#state !== READY) {
      throw new SharedMemoryError(
        'ERR_NOT_READY',
        this.#state === UNREACHABLE
          ? 'sharedmemory: no process is serving the store'
          : 'sharedmemory: not connected to the store yet; await controller.ready() before sync calls',
      )
    }
    if (!this.#transport.sendSync) {
      throw new SharedMemoryError(
        'ERR_SYNC_UNAVAILABLE',
        `sharedmemory: sync calls need the socket transport; this process uses ${this.#transport.name}`,
      )
    }
    this.#flush()
    const id = this.#nextId++
    const [reply] = JSON.parse(this.#transport.sendSync(`[${encodeRequest(id, op, key, arg, opts)}]`, this.#timeout))
    if (reply[1] === 2) throw new SharedMemoryError(String(reply[2]), `sharedmemory: ${reply[3]}`)
    const value = reply[1] === 1 ? reply[2] : undefined
    return map ? map(value) : value
  }

  /** The host serves the store; `limits` carries its maxValueSize and serialization. */
  ready(limits) {
    if (this.refuses(limits.serialization)) return
    this.maxValueSize = limits.maxValueSize
    if (this.#state === READY) return
    this.#state = READY
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
    this.#refusal = err
    this.#queue.length = this.#queueIds.length = 0
    this.#failAll(() => this.#refused())
    return true
  }

  #refused() {
    return new SharedMemoryError(this.#refusal.code, this.#refusal.message)
  }

  /** A reply batch arrived. */
  receive(text) {
    // Pushes from the host: '!' and replies that came later, or '~' and watch events.
    if (text[0] === '~') return this.#onEvents(text.slice(1))
    if (text[0] === '!') text = text.slice(1)
    let replies
    try {
      replies = JSON.parse(text)
    } catch {
      return // not from us; our requests will time out rather than be guessed at
    }
    if (!Array.isArray(replies)) return
    for (const reply of replies) {
      const entry = Array.isArray(reply) && this.#take(reply[0])
      if (!entry) continue // answered already, timed out, or not ours
      try {
        if (reply[1] === 0) entry.resolve(entry.map ? entry.map(undefined) : undefined)
        else if (reply[1] === 1) entry.resolve(entry.map ? entry.map(reply[2]) : reply[2])
        else fail(entry, new SharedMemoryError(String(reply[2]), `sharedmemory: ${reply[3]}`))
      } catch (err) {
        fail(entry, err) // a map that throws (a value that cannot be decoded) fails its call only
      }
    }
  }

  /**
   * Starts a watch (see src/watch.rs): `listener` gets {key, kind, value}
   * for every change of a key matching `pattern`. Answers its id, and a
   * promise that resolves once the store has it.
   */
  watch(pattern, listener, opts) {
    const id = this.#nextSubscription++
    this.#subscriptions.set(id, listener)
    const started = this.request('watch', JSON.stringify(pattern), String(id), undefined, opts)
    started.catch(() => this.#subscriptions.delete(id))
    return { id, started }
  }

  /** Stops a watch: its listener is not called again. */
  unwatch(id, opts) {
    if (!this.#subscriptions.delete(id)) return Promise.resolve(false)
    return this.request('unwatch', 'null', String(id), undefined, opts)
  }

  #onEvents(text) {
    let events
    try {
      events = JSON.parse(text)
    } catch {
      return
    }
    if (!Array.isArray(events)) {
      if (events && Number.isInteger(events.lost) && this.onWatchOverflow) this.onWatchOverflow(events.lost)
      return
    }
    for (const event of events) {
      const listener = Array.isArray(event) && this.#subscriptions.get(event[0])
      if (!listener) continue // unsubscribed meanwhile
      try {
        listener({ key: event[2], kind: event[1], value: event[3] })
      } catch (err) {
        // As with an EventEmitter listener: the app's own error, thrown where the app sees it.
        process.nextTick(() => {
          throw err
        })
      }
    }
  }

  /** The host is gone: everything pending fails now, later calls fail at once. */
  down(code, message) {
    this.#state = UNREACHABLE
    this.#queue.length = this.#queueIds.length = 0
    this.#failAll(() => new SharedMemoryError(code, `sharedmemory: ${message}`))
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
    if (!ids.every((id) => this.#pending.has(id) || this.#patient.has(id))) {
      requests = requests.filter((_, i) => this.#pending.has(ids[i]) || this.#patient.has(ids[i]))
    }
    const batch = `[${requests.join(',')}]`
    this.#queueIds = []
    this.#queue = []
    if (requests.length === 0) return
    if (!this.#transport.send(batch)) {
      this.down('ERR_HOST_EXITED', 'the channel to the process serving the store is closed')
    }
  }

  /** Takes the pending entry of request `id` out, if it is still waiting for its reply. */
  #take(id) {
    const entry = this.#pending.get(id) || this.#patient.get(id)
    if (entry) this.#pending.delete(id) || this.#patient.delete(id)
    return entry
  }

  #failAll(makeError) {
    const entries = [...this.#pending.values(), ...this.#patient.values()]
    this.#pending.clear()
    this.#patient.clear()
    for (const entry of entries) fail(entry, makeError())
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(makeError())
  }

  /** What a request whose deadline passed fails with: a timeout, or no host when none was ever found. */
  #timedOut(message) {
    return this.#state === READY ? new SharedMemoryError('ERR_TIMEOUT', `sharedmemory: ${message}`) : noHost()
  }

  /** One unref'd timer, set for the earliest deadline that matters. */
  #arm(at) {
    if (at >= this.#timerAt) return
    if (this.#timer) clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, at - performance.now()) + 1)
    this.#timer.unref()
  }

  #onTimer() {
    this.#timer = null
    this.#timerAt = Infinity
    const now = performance.now()
    if (this.#state === CONNECTING && now >= this.#connectDeadline) {
      this.#state = UNREACHABLE
      this.#queue.length = this.#queueIds.length = 0
      this.#failAll(noHost)
    }
    for (const [id, entry] of this.#pending) {
      if (entry.deadline > now) break
      this.#pending.delete(id)
      fail(entry, this.#timedOut(`no reply within ${this.#timeout} ms (the timeout option)`))
    }
    let nextPatient = Infinity
    for (const [id, entry] of this.#patient) {
      if (entry.deadline > now) {
        nextPatient = Math.min(nextPatient, entry.deadline)
        continue
      }
      this.#patient.delete(id)
      fail(entry, this.#timedOut('no answer from the store within the wait and the timeout option'))
    }
    if (nextPatient < Infinity) this.#arm(nextPatient)
    const next = this.#pending.values().next()
    if (!next.done) this.#arm(next.value.deadline)
    if (this.#state === CONNECTING) this.#arm(this.#connectDeadline)
  }
}

/**
 * Rejects a request's promise. A caller may have ignored the promise: it is
 * marked handled first, so that is never an unhandled rejection (a caller
 * that awaits it still gets the error). Done here, on failure only, so a
 * request that succeeds costs no extra promise.
 */
function fail(entry, err) {
  entry.promise.catch(noop)
  entry.reject(err)
}

function rejected(err) {
  const promise = Promise.reject(err)
  promise.catch(noop)
  return promise
}

function noop() {}

function encodeRequest(id, op, key, arg, opts) {
  return opts === undefined ? `[${id},"${op}",${key},${arg}]` : `[${id},"${op}",${key},${arg},${opts}]`
}

function noHost() {
  return new SharedMemoryError(
    'ERR_NO_HOST',
    'sharedmemory: no process is serving the store. Call init() in the cluster master too ' +
      '(before or after forking), or, with {manager: id}, in that worker, within connectTimeout.',
  )
}

module.exports = { Client }
