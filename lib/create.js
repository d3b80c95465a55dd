'use strict'

// Builds a controller over any backend (the contract is in lib/backend.js).
// init() (index.js) uses it with the backend of this process's role; unit
// tests (__test__/unit/) use it with a fake backend, or the batching
// backend over a fake transport, all in one process. Internal: not part of
// the package's public API (package.json's "exports" does not expose it).

const { checkBackend } = require('./backend')
const { Controller } = require('./controller')

/**
 * @param backend what serves the controller's requests (lib/backend.js)
 * @param {object} [options]
 * @param {'master' | 'worker' | 'manager' | 'client'} [options.role] what controller.role says (default 'master')
 * @param {'value' | 'error-first'} [options.callbackStyle] how callbacks are called (default 'value')
 */
function createController(backend, { role = 'master', callbackStyle = 'value' } = {}) {
  return new Controller(checkBackend(backend), { role, callbackStyle })
}

module.exports = { createController }
