'use strict'

// The benchmark's own messages between master and workers travel over the
// same cluster IPC channel as the peers' messages; this tag tells them apart
// (every peer ignores messages that do not carry its own tag).

const TAG = '__bench__'

function message(type, fields = {}) {
  return { [TAG]: true, type, ...fields }
}

function isOurs(msg) {
  return msg !== null && typeof msg === 'object' && msg[TAG] === true
}

module.exports = { message, isOurs }
