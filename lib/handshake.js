'use strict'

// How a process that needs the store finds the one that serves it, over
// cluster IPC (the envelope kinds are in lib/envelope.js):
//
//   worker → master    hello                       until the master welcomes it
//   master → worker    welcome {limits, socket?}   when it serves (at once, or once the manager does)
//   manager → master   hosting {limits, socket?}   until the master welcomes it (relay mode)
//
// `limits` are the host's maxValueSize and serialization; `socket` the
// {name, token} of its socket, when it serves one. The joining side of
// every welcome (a worker's, and the relaying master's own backend when
// the manager announces itself) is `join`; the announcing side is
// `announcement`; the "until answered" of hello and hosting is `keepAsking`.

const { SocketTransport, tryConnect } = require('./transports/socket')

/**
 * Worker: connects to the socket its master left in the environment
 * (lib/process-store.js, parentStore), before any message could arrive, and
 * serves at once; answers whether it did. When
 * it cannot connect (the master is gone, or closed), nothing changes: the
 * worker finds its host over IPC as usual.
 */
function joinAtBirth(backend, announced, { timeout }) {
  if (backend.refuses(announced.serialization)) return true
  let transport
  try {
    transport = new SocketTransport(announced.socket, { timeout })
  } catch {
    return false
  }
  backend.useTransport(transport)
  backend.hostReady(hostLimits(announced))
  return true
}

/**
 * What backend.hostReady takes from a host's announcement: its limits, the
 * segment it publishes to, and the socket over which that segment's
 * descriptor is asked for (`socket`, when given, is the one reached).
 */
function hostLimits(announced, socket = announced.socket) {
  return {
    maxValueSize: announced.maxValueSize,
    serialization: announced.serialization,
    segment: announced.segment || null,
    socket: socket || null,
  }
}

/**
 * What a host announces (welcome, hosting): its limits and, when it has
 * them, its socket and the segment it publishes its store to ({pid, fd}).
 */
function announcement({ maxValueSize, serialization }, socket, segment) {
  const fields = { maxValueSize, serialization }
  if (socket) fields.socket = socket
  if (segment) fields.segment = segment
  return fields
}

/**
 * A host announced itself to `backend` (a BatchingBackend). A host whose
 * serialization differs is refused, and not even connected to. Otherwise,
 * with `socket` wanted and offered, the backend switches to the socket
 * before its first request leaves (if connecting fails, it stays on IPC,
 * with a warning), and then serves.
 */
function join(backend, announced, { socket, timeout }, connect = tryConnect) {
  if (backend.refuses(announced.serialization)) return
  if (socket && backend.state !== 'ready') {
    const transport = connect(announced.socket, { timeout })
    if (transport) backend.useTransport(transport)
  }
  backend.hostReady(hostLimits(announced))
}

/**
 * Calls `ask()` now and again after each delay of `ladder` (its last delay
 * repeating) for as long as it answers true; a master that calls init()
 * after forking misses the first hello. The timer is unref'd. Answers a
 * function that stops asking.
 */
function keepAsking(ladder, ask) {
  let attempt = 0
  let timer = null
  const step = () => {
    timer = null
    if (!ask()) return
    timer = setTimeout(step, ladder[Math.min(attempt++, ladder.length - 1)])
    timer.unref()
  }
  step()
  return () => {
    if (timer) clearTimeout(timer)
    timer = null
  }
}

module.exports = { announcement, join, keepAsking, joinAtBirth, hostLimits }
