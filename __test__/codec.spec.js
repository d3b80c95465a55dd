'use strict'

// Values are stored as the JSON text the worker produced, and compareAndSet
// compares that text byte for byte: every way of encoding a value must give
// exactly what JSON.stringify gives.

const test = require('ava')

const { encodeValue } = require('../lib/codec')

test('long strings encode exactly as JSON.stringify does, whether or not they need escaping', (t) => {
  const long = (unit) => unit.repeat(Math.ceil(3000 / unit.length))
  const samples = [
    long('plain ascii text 0123456789 '),
    long('quote " inside '),
    long('back\\slash '),
    long('line\nbreak '),
    long('tab\tand\rreturn '),
    long('nul\u0000 and \u001f '),
    long('del \u007f is not escaped '),
    long('accents é and ü '),
    long('emoji 😀 '),
    `${long('a')}\ud800`, // a lone surrogate: JSON.stringify escapes it
    long('x').slice(0, 1024), // the shortest string the fast path takes
  ]
  for (const sample of samples) t.is(encodeValue(sample), JSON.stringify(sample), JSON.stringify(sample.slice(0, 20)))
})
