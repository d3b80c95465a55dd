'use strict'

// The backend of a store elected by name (lib/election.js): init({name}),
// and PM2 apps. It is a batching backend whose transport is whatever the
// election gave this process:
//   host    the store lives here: the store itself, as the DirectBackend's
//           (role 'master', transport 'local'), served to the others on the
//           store's socket name;
//   client  a socket to the host (role 'worker', transport 'socket').
//
// Failover: when the host's socket closes (it exited, was killed, or
// closed), every pending request fails at once with ERR_HOST_EXITED (a
// write among them may or may not have been applied: it is never retried),
// and this process takes part in electing the next host at once. Requests
// made meanwhile wait for it (up to connectTimeout). The new host takes
// over what the old one published to shared memory, if this process still
// maps it, and then, with persist, loads the last snapshot (#takeOver).
// With host 'external' this process only ever connects (lib/election.js).
//
// The same backend serves processes that join a store without electing
// (lib/links.js): a worker thread follows its process, a forked child its
// parent's host; their links answer attempts as an election does.

const { BatchingBackend } = require('./batching')
const { storeTransport } = require('./direct')

/** ms between tries while no host is found (each with ±50 % jitter); the last repeats. */
const RETRY_MS = [1, 2, 5, 10, 20, 40, 80, 100]
/** Once connectTimeout has passed with no host, a call tries again at most this often. */
const LATE_RETRY_MS = 1000

/** Stands in until the first attempt gives a transport: nothing is sent while connecting. */
const unelected = {
  name: 'socket',
  attach() {},
  send() {
    return false
  },
  hello() {},
}

class ElectedBackend extends BatchingBackend {
  #election
  #onClose
  #onFound
  #limits
  #role = 'worker'
  #attempts = 0
  #timer = null
  #lastTry = -Infinity
  /** When the host was lost (performance.now()), until a new one serves: the failover time is logged by tests. */
  lostAt = null
  /** How long the last failover took, ms. */
  lastFailoverMs = null
  /** How many entries this process took over from the dead host's segment when it was elected after it. */
  takenOver = 0
  /** With persist, what loading the snapshot did when this process was elected (lib/persistence.js). */
  restored = null

  /**
   * @param {import('../election').Election} election (or a link of lib/links.js)
   * @param {object} options timeout, connectTimeout, maxValueSize, serialization, sharedReads,
   *   onClose (what close() also does), and onFound(found): called with {host} or {client,
   *   limits, socket} once a host serves, and with null when it is lost (lib/process-store.js
   *   tells this process's threads)
   */
  constructor(election, { timeout, connectTimeout, maxValueSize, serialization, sharedReads = false, onClose = null, onFound = null }) {
    // keepAlive: no IPC channel keeps this process alive while it awaits a reply.
    super(unelected, { timeout, connectTimeout, serialization, sharedReads, keepAlive: true, onClose: () => this.#closing() })
    this.#election = election
    this.#onClose = onClose
    this.#onFound = onFound
    this.#limits = { maxValueSize, serialization }
    this.#elect()
  }

  /** 'master' while this process hosts the store, else 'worker'. It changes when a failover elects this process. */
  get role() {
    return this.#role
  }

  request(request) {
    if (this.state === 'unreachable' && !this.closed) this.#lateTry()
    return super.request(request)
  }

  /** The host is gone: what is pending fails (super), then a new host is elected. */
  down(code, message) {
    super.down(code, message)
    if (this.closed) return
    this.lostAt = performance.now()
    if (this.#onFound) this.#onFound(null)
    this.#attempts = 0
    this.reconnect()
    this.#elect()
  }

  /** One election attempt now; while connecting and unsettled, again after a short, jittered delay. */
  #elect() {
    this.#stopTimer()
    if (this.closed || this.state === 'ready') return
    this.#lastTry = performance.now()
    let outcome
    try {
      outcome = this.#election.attempt((store) => this.#takeOver(store))
    } catch (err) {
      if (typeof err.code === 'string' && err.code.startsWith('ERR_')) return this.refuseWith(err)
      throw err
    }
    if (outcome.host) {
      this.#role = outcome.role || 'master'
      this.useTransport(storeTransport(outcome.host))
      this.#settled(outcome.limits || this.#limits)
      if (this.#onFound) this.#onFound({ host: outcome.host })
    } else if (outcome.client) {
      this.#role = 'worker'
      this.useTransport(outcome.client)
      this.#settled(outcome.limits)
      if (this.#onFound) this.#onFound({ client: outcome.client, limits: outcome.limits, socket: this.#election.current })
    } else if (this.state === 'connecting') {
      const base = RETRY_MS[Math.min(this.#attempts++, RETRY_MS.length - 1)]
      this.#timer = setTimeout(() => this.#elect(), base * (0.5 + Math.random()))
      this.#timer.unref()
    }
  }

  /**
   * Elected: after a failover, what the dead host published and this
   * process still maps becomes the new store; then, with persist, the last
   * snapshot fills in what the segment did not carry. All before any client
   * can reach the store.
   */
  #takeOver(store) {
    const lost = this.takeLostSegment()
    if (lost !== null) {
      this.takenOver = lost.importInto(store)
      lost.close()
    }
    this.restored = store.beginHosting()
  }

  /** The elected host's limits and socket {name, token}, once one is found (for this process's own cluster workers). */
  current() {
    if (this.state !== 'ready' || !this.#election.current) return null
    return { limits: this.#found, socket: this.#election.current }
  }

  #found = null

  #settled(limits) {
    this.#found = limits
    this.hostReady(limits)
    if (this.lostAt !== null) {
      this.lastFailoverMs = performance.now() - this.lostAt
      this.lostAt = null
    }
  }

  /** Past connectTimeout, calls fail with ERR_NO_HOST; each may start one more try, at most once a second. */
  #lateTry() {
    if (performance.now() - this.#lastTry < LATE_RETRY_MS) return
    this.reconnect()
    this.#attempts = 0
    this.#elect()
  }

  #stopTimer() {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }

  /** close(): no more tries; a host gives up its name (its clients elect another), a client's socket closes. */
  #closing() {
    this.#stopTimer()
    this.#election.resign()
    if (this.#onClose) this.#onClose()
  }
}

module.exports = { ElectedBackend }
