//! Fuzz target `shm_reader`: the check is `sharedmemory::fuzzing::shm_reader` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sharedmemory::fuzzing::shm_reader(data));
