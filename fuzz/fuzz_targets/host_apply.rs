//! Fuzz target `host_apply`: the check is `sharedmemory::fuzzing::host_apply` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sharedmemory::fuzzing::host_apply(data));
