//! Fuzz target `read_frame`: the check is `sharedmemory::fuzzing::read_frame` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sharedmemory::fuzzing::read_frame(data));
