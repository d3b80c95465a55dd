'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

const absent = { undefined: true }

for (const [mode, transport] of [
  ['master', 'socket'],
  ['master', 'ipc'],
  ['relay', 'socket'],
  ['relay', 'ipc'],
]) {
  test(`${mode} mode over ${transport}: every method works from workers and from the master`, async (t) => {
    const { result } = await runFixture('api.js', [mode], { env: { SM_TRANSPORT: transport } })
    t.deepEqual(result.written, {
      set: { value: 'OK' },
      setCallback: 'OK',
      multi: 'OK',
      multiPromise: { value: 'OK' },
      plusOne: { value: 1 },
      plusOneCallback: 2,
      numberKey: { value: 'OK' },
      emptyKey: { value: 'OK' },
      protoKey: { value: 'OK' },
      falsy: { value: 'OK' },
      role: 'worker',
      transport,
    })
    t.deepEqual(result.read, {
      a: { value: [0, 1, 2, 3] },
      aCallback: [0, 1, 2, 3],
      cb: { value: { x: 1 } },
      m1: { value: 1 },
      m2: { value: 'two' },
      m3: absent,
      m4: { value: null },
      p1: { value: true },
      five: { value: 'five' },
      fiveByNumber: { value: 'five' },
      empty: { value: 'empty' },
      proto: { value: { p: 1 } },
      zero: { value: 0 },
      missing: absent,
      remove: { value: 'OK' },
      afterRemove: absent,
      removeCallback: 'OK',
      afterRemoveCallback: absent,
      setUndefined: { value: 'OK' },
      afterSetUndefined: absent,
      role: 'worker',
      transport,
    })
    t.deepEqual(result.master, {
      role: 'master',
      // the master hosts the store itself, or reaches the manager worker like any worker
      transport: mode === 'master' ? 'local' : transport,
      n: { value: 2 },
      plusOne: { value: 3 },
      m2: { value: 'two' },
      callbackWasAsync: true,
      set: { value: 'OK' },
      get: { value: { ok: true } },
      again: true,
      differentConfig: 'ERR_INVALID_CONFIG',
    })
  })
}
