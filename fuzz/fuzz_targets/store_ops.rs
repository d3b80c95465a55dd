//! Fuzz target `store_ops`: the check is `sharedmemory::fuzzing::store_ops` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sharedmemory::fuzzing::store_ops(data));
