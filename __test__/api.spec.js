'use strict'

const test = require('ava')

const { runFixture } = require('./helpers')

const absent = { undefined: true }

for (const mode of ['master', 'relay']) {
  test(`${mode} mode: every method works from workers and from the master`, async (t) => {
    const { result } = await runFixture('api.js', [mode])
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
    })
    t.deepEqual(result.master, {
      role: 'master',
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
