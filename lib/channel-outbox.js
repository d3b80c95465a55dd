'use strict'

// What a hosting process has posted to one IPC peer (a worker, or the
// master in relay mode) and Node has not yet written to the channel. A peer
// that stops reading (stopped, stuck, swapped out) leaves it all queued in
// this process's memory, so what waits for one peer is bounded, as the
// Rust side bounds what waits for a socket connection (src/peers.rs):
//
// - watch events ('~' pushes) are dropped, and counted, while more than
//   MAX_UNSENT_BYTES wait for the peer or while events were dropped and
//   not yet reported; once everything is written it gets `~{"lost":n}`, as
//   a socket peer does;
// - replies, and pushes someone waits for (a lock granted later), always
//   go: they answer requests the peer made, so the peer's own requests
//   bound them.
//
// One outbox per worker channel: the master's to each worker it serves
// (lib/host.js) or relays for (lib/relay.js).

const { seal, post } = require('./envelope')

/** Bytes of watch events that may wait for one peer (as MAX_QUEUED_BYTES in src/peers.rs). */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024

class ChannelOutbox {
  #channel
  #unsent = 0
  #lost = 0

  /** @param channel a cluster.Worker (in the master) or `process` (in a worker) */
  constructor(channel) {
    this.#channel = channel
  }

  /** Bytes posted and not yet written to the channel. */
  get unsent() {
    return this.#unsent
  }

  /** A reply batch: always posted. */
  reply(text, fields = {}) {
    return this.#post(seal('res', { r: text, ...fields }), text.length)
  }

  /** A push (see src/protocol.rs): watch events may be dropped, anything else is posted. */
  push(text) {
    if (text[0] === '~' && (this.#lost > 0 || this.#unsent + text.length > MAX_UNSENT_BYTES)) {
      if (this.#unsent > 0) {
        this.#lost++
        return false
      }
    }
    return this.#post(seal('push', { p: text }), text.length)
  }

  #post(message, bytes) {
    const posted = post(this.#channel, message, () => this.#written(bytes))
    if (posted) this.#unsent += bytes
    return posted
  }

  #written(bytes) {
    this.#unsent -= bytes
    if (this.#unsent === 0 && this.#lost > 0) {
      const lost = this.#lost
      this.#lost = 0
      this.#post(seal('push', { p: `~{"lost":${lost}}` }), 16)
    }
  }
}

module.exports = { ChannelOutbox, MAX_UNSENT_BYTES }
