'use strict'

// Processes the tests start and drive: a peer (fixtures/peer.js) answers
// JSON commands over stdin. Everything started here is ended by its PID in
// the test's teardown, whatever happened.

const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')

class Peer {
  #answers = new Map()
  #sent = new Map()
  #nextId = 1
  output = ''

  constructor(t, fixture, args, { env = {}, command = process.execPath, prefix = [] } = {}) {
    const script = path.isAbsolute(fixture) ? fixture : path.join(__dirname, 'fixtures', fixture)
    this.child = spawn(command, [...prefix, script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.pid = this.child.pid
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })))
    this.child.stderr.on('data', (chunk) => (this.output += chunk))
    this.lines = readline.createInterface({ input: this.child.stdout })
    this.lines.on('line', (line) => {
      this.output += `${line}\n`
      if (line.startsWith('ANSWER ')) {
        const answer = JSON.parse(line.slice(7))
        this.#settle(this.#answers, answer.id, answer)
      } else if (line.startsWith('SENT ')) {
        this.#settle(this.#sent, Number(line.slice(5)), true)
      }
    })
    t.teardown(() => this.kill())
  }

  #waiter(map, id) {
    let entry = map.get(id)
    if (!entry) {
      entry = {}
      entry.promise = new Promise((resolve) => (entry.resolve = resolve))
      map.set(id, entry)
    }
    return entry
  }

  #settle(map, id, value) {
    this.#waiter(map, id).resolve(value)
  }

  /** Sends a command; answers {id, answer: Promise, sent: Promise (for waitLock)}. */
  send(cmd, args = {}) {
    const id = this.#nextId++
    this.child.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    return { id, answer: this.#waiter(this.#answers, id).promise, sent: this.#waiter(this.#sent, id).promise }
  }

  /** Sends a command and waits for its answer. */
  ask(cmd, args) {
    return this.send(cmd, args).answer
  }

  /** A line matching `pattern` (one already printed counts). */
  waitFor(pattern) {
    if (pattern.test(this.output)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pattern.test(this.output)) {
          this.lines.off('line', check)
          resolve()
        }
      }
      this.lines.on('line', check)
      // A peer that ends without printing it fails the test instead of leaving it waiting.
      this.exited.then(({ code, signal }) => {
        if (pattern.test(this.output)) return resolve()
        this.lines.off('line', check)
        reject(new Error(`the peer exited (${code ?? signal}) without printing ${pattern}:\n${this.output}`))
      })
    })
  }

  kill(signal = 'SIGKILL') {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
  }
}

module.exports = { Peer }
