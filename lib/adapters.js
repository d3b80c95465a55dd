'use strict'

// What the adapters for other packages' store interfaces share
// (rate-limit.js, keyv.js; session.js predates it).

const { escapeGlob } = require('./glob')

/** A bad option given to an adapter's constructor: a TypeError with code ERR_INVALID_ARGUMENT. */
function optionError(module, message) {
  const err = new TypeError(`sharedmemory/${module}: ${message}`)
  err.code = 'ERR_INVALID_ARGUMENT'
  return err
}

/** Checks the options every adapter takes: answers {controller, namespace} (namespace defaulting to `fallback`). */
function adapterOptions(module, options, fallback) {
  if (options === null || typeof options !== 'object') throw optionError(module, 'options must be an object')
  const { controller = null, namespace = fallback } = options
  if (controller !== null && (typeof controller !== 'object' || typeof controller.ns !== 'function')) {
    throw optionError(module, "the controller option takes what require('sharedmemory').init() returned")
  }
  if (typeof namespace !== 'string' || namespace === '') throw optionError(module, 'the namespace option is a non-empty string')
  return { controller, namespace }
}

module.exports = { escapeGlob, optionError, adapterOptions }
