//! Fuzz target `snapshot_parse`: the check is `sharedmemory::fuzzing::snapshot_parse` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sharedmemory::fuzzing::snapshot_parse(data));
