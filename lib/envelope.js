'use strict'

// The envelope around every cluster IPC message of ours. The app's own
// messages never carry the tag property, so they and ours cannot be
// mistaken for each other; anything malformed is dropped by `open`.
//
// Kinds, and who sends them:
//   hello    worker → master   "I called init(); tell me when the store is served"
//   welcome  master → worker   the store is served; carries the host's limits,
//                              its `serialization` ('json' or 'advanced'; absent
//                              from older hosts, meaning 'json') and, when it
//                              serves one, its socket {name, token}
//   down     master → worker   the host went away; pending requests fail
//   req      worker → master   a request batch `b`   (master → manager: plus origin `o`)
//   res      master → worker   a reply batch `r`     (manager → master: plus origin `o`)
//   push     master → worker   what the store pushes to that worker `p` (a lock granted
//                              later, watch events)   (manager → master: plus origin `o`)
//   gone     master → manager  worker `o` exited: its locks pass on, its watches end
//   hosting  manager → master  the manager worker has created its store (relay
//                              mode); carries its limits, serialization and
//                              socket like welcome

const TAG = '__sharedmemory__'
const VERSION = 1

function seal(kind, fields) {
  return { [TAG]: VERSION, k: kind, ...fields }
}

/** Answers the message if it is a well-formed envelope of ours, else null. */
function open(message) {
  if (message === null || typeof message !== 'object' || message[TAG] !== VERSION) return null
  switch (message.k) {
    case 'hello':
      return message
    case 'hosting':
    case 'welcome':
      return Number.isInteger(message.maxValueSize) && validSocket(message.socket) && validSerialization(message.serialization)
        ? message
        : null
    case 'down':
      return typeof message.code === 'string' && typeof message.message === 'string' ? message : null
    case 'req':
      return typeof message.b === 'string' && (message.o === undefined || Number.isInteger(message.o)) ? message : null
    case 'res':
      return typeof message.r === 'string' && (message.o === undefined || Number.isInteger(message.o)) ? message : null
    case 'push':
      return typeof message.p === 'string' && (message.o === undefined || Number.isInteger(message.o)) ? message : null
    case 'gone':
      return Number.isInteger(message.o) ? message : null
    default:
      return null
  }
}

// The host's `serialization` option; hosts older than the option send none
// (they use 'json'). Any string is kept, so a worker can say what differs.
function validSerialization(serialization) {
  return serialization === undefined || typeof serialization === 'string'
}

function validSocket(socket) {
  return socket === undefined || (socket !== null && typeof socket.name === 'string' && typeof socket.token === 'string')
}

/**
 * Sends over an IPC channel (a worker's `process`, or a `cluster.Worker` in
 * the master) without ever throwing or emitting 'error': a closed channel
 * only makes it answer false. `written`, if given, is called once the
 * message has been written to the channel, or has failed to be (only when
 * this answered true).
 */
function post(channel, message, written) {
  const connected = typeof channel.isConnected === 'function' ? channel.isConnected() : channel.connected
  if (!connected) return false
  try {
    channel.send(message, written ? () => written() : ignoreSendError)
    return true
  } catch {
    return false
  }
}

function ignoreSendError() {}

module.exports = { seal, open, post }
