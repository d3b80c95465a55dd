//! Fuzz target `parse_batch`: the check is `sharedmemory::fuzzing::parse_batch` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sharedmemory::fuzzing::parse_batch(data));
