//! The reading side of a shared segment, for JavaScript: `SharedReader`,
//! and the raw function a hot read goes through (`readFunction`).
//!
//! A read made through napi-rs's generated wrapper of a method pays for
//! the wrapper: unwrapping `this`, a borrow scope allocated per call,
//! argument checks. That is most of a read's cost (see
//! `../shared/research/read-limits.md`), so the one read that matters,
//! get by a string key, has a function of its own, written against napi
//! directly: it copies the key into the reader's buffer, quoting it
//! there, and creates the result from the bytes read, with no allocation.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::shm::follow::{Following, ProcFd, Source};
use crate::shm::memfd::Mapping;
use crate::shm::reader::Version;
use crate::shm::reading::{quotes_as_is, simple, Got, Reading, Simple, KEY_SPACE};
use crate::shm::ShmError;
use crate::socket::rights::OverSocket;

pub(crate) type ProcessReading = Reading<Mapping, Box<dyn Source<Mapping> + Send>>;

/// What a call of the reading function answered, in the `Int32Array` its
/// caller gave (a second result, which costs nothing to pass).
#[repr(i32)]
#[derive(Clone, Copy)]
enum Answer {
  /// The value itself (a string, a number, a boolean or null).
  Value = 0,
  /// The value's JSON text, for JSON.parse.
  Json = 1,
  /// Missing or expired.
  Missing = 2,
  /// Not answered here (a key to quote with care, a segment that cannot
  /// answer): take the general path.
  Ask = 3,
  /// Still the version the caller held (see [`HELD`]): its value is the
  /// current one. Nothing is returned.
  Unchanged = 4,
}

// The words of the caller's `Int32Array` past the answer, when it has
// [`ANSWER_WORDS`] of them: a version of an entry (see
// `crate::shm::reader::Version`), given by the caller and written back.
/// 1 when the words below hold the version the caller has of the key it
/// reads (it has that version's value, decoded), else 0.
const HELD: usize = 1;
/// The generation's low and high 32 bits.
const GENERATION: usize = 2;
/// The slot.
const SLOT: usize = 4;
/// The slot's state word's low and high 32 bits.
const STATE: usize = 5;
/// Words of an answer array that carries versions.
const ANSWER_WORDS: usize = 7;

/// A read-only view of the segment another process publishes its store to,
/// with the reports of its reads (see `takeUses`).
#[napi]
pub struct SharedReader {
  reading: Rc<RefCell<ProcessReading>>,
}

#[napi]
impl SharedReader {
  /// Maps the segment process `pid` publishes as its descriptor `fd`:
  /// passed over the socket `socketName` (with `token`) when there is one,
  /// else opened as `/proc/<pid>/fd/<fd>`. A read of an entry is reported
  /// as a use at most once per `windowMs`.
  #[napi(constructor)]
  pub fn new(
    pid: u32,
    fd: i32,
    window_ms: f64,
    socket_name: Option<String>,
    token: Option<String>,
  ) -> Result<Self> {
    let source: Box<dyn Source<Mapping> + Send> = match (socket_name, token) {
      (Some(name), Some(token)) => Box::new(OverSocket {
        name,
        token: token.into_bytes().into(),
      }),
      _ => Box::new(ProcFd { pid, fd }),
    };
    let reader = Following::open(source).map_err(|err| {
      Error::from_reason(format!(
        "cannot map the shared segment of process {pid}: {err}"
      ))
    })?;
    let window = Duration::from_secs_f64(window_ms.clamp(1.0, 60_000.0) / 1000.0);
    Ok(SharedReader {
      reading: Rc::new(RefCell::new(Reading::new(reader, window))),
    })
  }

  /// Moves to the host's current generation of the segment if the one
  /// mapped was superseded (cheap when it was not: one load); answers
  /// whether the mapped one is current.
  #[napi]
  pub fn refresh(&self) -> bool {
    self.reading.borrow_mut().refresh()
  }

  /// Unmaps the segment now rather than when this object (and every
  /// function `readFunction` made) is collected.
  #[napi]
  pub fn close(&self) {
    self.reading.borrow_mut().close();
  }

  /// The value text under `key` (a stored key: namespace text then key
  /// text, as JSON), or undefined when it is missing or expired; the read
  /// is written down for `takeUses`. Throws when the segment cannot answer
  /// (replaced, closed, or a slot the writer left locked): then ask the host.
  #[napi(catch_unwind)]
  pub fn get(&self, key: String) -> Result<Option<String>> {
    let mut reading = self.reading.borrow_mut();
    Ok(reading.get(key.as_bytes()).map_err(shm_error)?.map(text))
  }

  /// As `get`, but not a read to report (`has`).
  #[napi(catch_unwind)]
  pub fn peek(&self, key: String) -> Result<Option<String>> {
    let mut reading = self.reading.borrow_mut();
    Ok(reading.peek(key.as_bytes()).map_err(shm_error)?.map(text))
  }

  /// What `ttl` answers for `key` (as `get` takes it): -2 missing or
  /// expired, -1 no TTL, else the milliseconds left. Not a read to report
  /// (the host counts none for `ttl` either). Throws when the segment
  /// cannot answer (as `get`, and with idle expiry): then ask the host.
  #[napi(catch_unwind)]
  pub fn ttl(&self, key: String) -> Result<f64> {
    let ttl = self.reading.borrow_mut().ttl(key.as_bytes());
    Ok(ttl.map_err(shm_error)? as f64)
  }

  /// Whether enough reads wait to be reported that they should go now.
  #[napi(getter)]
  pub fn uses_full(&self) -> bool {
    self.reading.borrow().uses_full()
  }

  /// Forgets the entries read since the last report (their uses are lost:
  /// recency stays as it was) but keeps the hit and miss counts; for when
  /// the host does not keep up with reports.
  #[napi]
  pub fn forget_uses(&self) {
    self.reading.borrow_mut().forget_uses();
  }

  /// The reads written down since the last call, as the argument of a
  /// `used` request (see `protocol`), or null when there are none.
  #[napi]
  pub fn take_uses(&self) -> Option<String> {
    self.reading.borrow_mut().take_uses()
  }

  /// A function `(key, ns?) => value` that reads the string `key` of
  /// namespace `ns` (a name; absent: the default namespace) as `get`
  /// does, quoting both itself, and answers the value decoded when that
  /// needs no parser. What it answered goes to `answer[0]`: 0 the value
  /// itself, 1 its JSON text (for JSON.parse), 2 missing, 3 not answered
  /// (take `get`, which also tells why). It never throws.
  ///
  /// With an `answer` of 7 elements, it also tells versions, for a caller
  /// that keeps what it decoded: with JSON text it writes the entry's
  /// version to `answer[2..7]` (generation low and high, slot, state low
  /// and high); when `answer[1]` is 1, `answer[2..7]` is the version the
  /// caller holds of this key, and if the entry is still that version it
  /// answers 4 (unchanged), copying nothing. Every read counts as today's.
  #[napi(ts_return_type = "(key: string, ns?: string) => unknown")]
  pub fn read_function<'env>(&self, env: &'env Env, answer: Int32Array) -> Result<Unknown<'env>> {
    if answer.is_empty() {
      return Err(Error::new(Status::InvalidArg, "answer needs one element"));
    }
    let raw_env = env.raw();
    // SAFETY: plain napi calls on this call's env; `answer` is a live typed
    // array of this env, referenced below for as long as the function lives.
    unsafe {
      let array = Int32Array::to_napi_value(raw_env, answer)?;
      let mut answer_ref = ptr::null_mut();
      check(sys::napi_create_reference(
        raw_env,
        array,
        1,
        &mut answer_ref,
      ))?;
      let mut data = ptr::null_mut();
      let mut length = 0usize;
      let mut kind = 0;
      let mut buffer = ptr::null_mut();
      let mut offset = 0usize;
      check(sys::napi_get_typedarray_info(
        raw_env,
        array,
        &mut kind,
        &mut length,
        &mut data,
        &mut buffer,
        &mut offset,
      ))?;
      let bound = Box::into_raw(Box::new(Bound {
        reading: self.reading.clone(),
        answer: data.cast(),
        versions: length >= ANSWER_WORDS,
        answer_ref,
      }));
      let mut function = ptr::null_mut();
      let name = c"read";
      let made = check(sys::napi_create_function(
        raw_env,
        name.as_ptr(),
        4,
        Some(read_now),
        bound.cast(),
        &mut function,
      ))
      .and_then(|()| {
        check(sys::napi_add_finalizer(
          raw_env,
          function,
          bound.cast(),
          Some(drop_bound),
          ptr::null_mut(),
          ptr::null_mut(),
        ))
      });
      if let Err(err) = made {
        sys::napi_delete_reference(raw_env, answer_ref);
        drop(Box::from_raw(bound));
        return Err(err);
      }
      Unknown::from_napi_value(raw_env, function)
    }
  }
}

impl SharedReader {
  /// The reading behind this view (for a host importing a dead one's segment).
  pub(crate) fn reading(&self) -> std::cell::Ref<'_, ProcessReading> {
    self.reading.borrow()
  }
}

/// What a function made by `SharedReader.readFunction` holds.
struct Bound {
  reading: Rc<RefCell<ProcessReading>>,
  /// The first element of the caller's `Int32Array`.
  answer: *mut i32,
  /// Whether that array has [`ANSWER_WORDS`] elements: versions are told.
  versions: bool,
  /// Keeps that array alive.
  answer_ref: sys::napi_ref,
}

unsafe extern "C" fn drop_bound(env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // SAFETY: `data` is the Box made in `read_function`, finalized once.
  let bound = unsafe { Box::from_raw(data.cast::<Bound>()) };
  unsafe { sys::napi_delete_reference(env, bound.answer_ref) };
}

/// The reading function itself: see `SharedReader.readFunction`.
unsafe extern "C" fn read_now(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let mut argc = 2usize;
  let mut argv = [ptr::null_mut(); 2];
  let mut data = ptr::null_mut();
  // SAFETY: napi calls with this callback's env and info; `data` is the
  // Bound this function was made with, alive until its finalizer.
  unsafe {
    let status = sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      ptr::null_mut(),
      &mut data,
    );
    if status != sys::Status::napi_ok || data.is_null() {
      return ptr::null_mut();
    }
    let bound = &*data.cast::<Bound>();
    let ns = if argc >= 2 { argv[1] } else { ptr::null_mut() };
    let versions = bound.versions.then_some(bound.answer);
    let (answer, value) = match bound.reading.try_borrow_mut() {
      Ok(mut reading) if argc >= 1 => read_key(env, &mut reading, argv[0], ns, versions),
      _ => (Answer::Ask, ptr::null_mut()),
    };
    bound.answer.write(answer as i32);
    value
  }
}

/// The version held, in an answer array of [`ANSWER_WORDS`] elements.
///
/// # Safety
/// `words` points to that many `i32`s.
unsafe fn held(words: *const i32) -> Option<Version> {
  let word = |i: usize| unsafe { words.add(i).read() } as u32;
  let pair = |i: usize| u64::from(word(i)) | u64::from(word(i + 1)) << 32;
  (word(HELD) == 1).then(|| Version {
    generation: pair(GENERATION),
    slot: word(SLOT),
    state: pair(STATE),
  })
}

/// Writes `version` into an answer array of [`ANSWER_WORDS`] elements.
///
/// # Safety
/// `words` points to that many `i32`s.
unsafe fn tell(words: *mut i32, version: Version) {
  let put = |i: usize, v: u64| unsafe { words.add(i).write(v as u32 as i32) };
  put(GENERATION, version.generation);
  put(GENERATION + 1, version.generation >> 32);
  put(SLOT, u64::from(version.slot));
  put(STATE, version.state);
  put(STATE + 1, version.state >> 32);
}

/// Reads string `key` (of namespace name `ns`, when not null or undefined);
/// with `versions` (an answer array of [`ANSWER_WORDS`]), against the
/// version held there, telling the version read.
///
/// # Safety
/// `key` and `ns` are values of `env` (or null), in a napi callback;
/// `versions` points to [`ANSWER_WORDS`] `i32`s.
unsafe fn read_key(
  env: sys::napi_env,
  reading: &mut ProcessReading,
  key: sys::napi_value,
  ns: sys::napi_value,
  versions: Option<*mut i32>,
) -> (Answer, sys::napi_value) {
  let space = reading.key_space();
  let mut len = 0;
  if !ns.is_null() && !is_nullish(env, ns) {
    match unsafe { quote_into(env, ns, space) } {
      Some(n) => len = n,
      None => return (Answer::Ask, ptr::null_mut()),
    }
  }
  match unsafe { quote_into(env, key, &mut space[len..]) } {
    Some(n) => len += n,
    None => return (Answer::Ask, ptr::null_mut()),
  }
  let Some(words) = versions else {
    return match reading.get_prepared(len) {
      Ok(None) => (Answer::Missing, ptr::null_mut()),
      Ok(Some(text)) => unsafe { decode(env, text) },
      Err(_) => (Answer::Ask, ptr::null_mut()),
    };
  };
  match reading.get_prepared_since(len, unsafe { held(words) }) {
    Ok(None) => (Answer::Missing, ptr::null_mut()),
    Ok(Some(Got::Unchanged)) => (Answer::Unchanged, ptr::null_mut()),
    Ok(Some(Got::Text(text, version))) => {
      let decoded = unsafe { decode(env, text) };
      if let (Answer::Json, _) = decoded {
        unsafe { tell(words, version) };
      }
      decoded
    }
    Err(_) => (Answer::Ask, ptr::null_mut()),
  }
}

/// Writes string `value` into `out` as its JSON text (quoted), when it
/// quotes as is and fits; answers the bytes written.
///
/// # Safety
/// `value` is a value of `env`.
unsafe fn quote_into(env: sys::napi_env, value: sys::napi_value, out: &mut [u8]) -> Option<usize> {
  // Room for the opening quote, then the text, then the closing quote in
  // place of napi's NUL; a text that fills all of it may have been cut.
  let room = out.len().checked_sub(2)?;
  let mut len = 0usize;
  let status = unsafe {
    sys::napi_get_value_string_utf8(env, value, out[1..].as_mut_ptr().cast(), room + 1, &mut len)
  };
  if status != sys::Status::napi_ok || len >= room || !quotes_as_is(&out[1..=len]) {
    return None;
  }
  out[0] = b'"';
  out[len + 1] = b'"';
  Some(len + 2)
}

/// The JavaScript value of a value's JSON text, or the text for JSON.parse.
///
/// # Safety
/// In a napi callback of `env`.
unsafe fn decode(env: sys::napi_env, text: &[u8]) -> (Answer, sys::napi_value) {
  let mut value = ptr::null_mut();
  let status = unsafe {
    match simple(text) {
      Simple::Str(bytes) => {
        return string(env, bytes).map_or((Answer::Ask, ptr::null_mut()), |v| (Answer::Value, v))
      }
      Simple::Number(n) => sys::napi_create_double(env, n, &mut value),
      Simple::Bool(b) => sys::napi_get_boolean(env, b, &mut value),
      Simple::Null => sys::napi_get_null(env, &mut value),
      Simple::Json(json) => {
        return string(env, json).map_or((Answer::Ask, ptr::null_mut()), |v| (Answer::Json, v))
      }
    }
  };
  if status == sys::Status::napi_ok {
    (Answer::Value, value)
  } else {
    (Answer::Ask, ptr::null_mut())
  }
}

/// A JavaScript string of UTF-8 `bytes`: made as Latin-1 when they are
/// ASCII, which V8 takes without decoding.
unsafe fn string(env: sys::napi_env, bytes: &[u8]) -> Option<sys::napi_value> {
  let mut value = ptr::null_mut();
  let status = unsafe {
    if bytes.is_ascii() {
      sys::napi_create_string_latin1(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut value)
    } else {
      sys::napi_create_string_utf8(env, bytes.as_ptr().cast(), bytes.len() as isize, &mut value)
    }
  };
  (status == sys::Status::napi_ok).then_some(value)
}

unsafe fn is_nullish(env: sys::napi_env, value: sys::napi_value) -> bool {
  let mut kind = 0;
  let status = unsafe { sys::napi_typeof(env, value, &mut kind) };
  status == sys::Status::napi_ok
    && (kind == sys::ValueType::napi_undefined || kind == sys::ValueType::napi_null)
}

fn check(status: sys::napi_status) -> Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(Error::new(
      Status::GenericFailure,
      format!("napi call failed ({status})"),
    ))
  }
}

fn shm_error(err: ShmError) -> Error {
  Error::new(Status::GenericFailure, err.to_string())
}

/// Value text (JSON, so UTF-8) as a String.
fn text(bytes: &[u8]) -> String {
  String::from_utf8_lossy(bytes).into_owned()
}

const _: () = assert!(KEY_SPACE > 2);
