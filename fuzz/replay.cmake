# fuzz/replay.cmake - included from tests/CMakeLists.txt in every build.
#
# Each fuzz/<input>_fuzzer.c is linked with fuzz/standalone.c (a main() that
# feeds files to LLVMFuzzerTestOneInput), so it builds with gcc as well as
# clang, and one ctest test per target replays all the committed seeds in
# fuzz/corpus/<input>_fuzzer/.  A fuzzer's invariant checks abort, so any
# regression on a seed fails the test.  No libFuzzer, no clang needed.

file(GLOB _essay_fuzz_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/fuzz/*_fuzzer.c")
foreach(_src ${_essay_fuzz_sources})
  get_filename_component(_name ${_src} NAME_WE)
  set(_seeds "${PROJECT_SOURCE_DIR}/fuzz/corpus/${_name}")
  add_executable(replay_${_name} ${_src} "${PROJECT_SOURCE_DIR}/fuzz/standalone.c")
  target_link_libraries(replay_${_name} PRIVATE essay_static)
  target_include_directories(replay_${_name} PRIVATE "${PROJECT_SOURCE_DIR}/libessay"
                             ${XXHASH_INCLUDE_DIR} ${STEMMER_INCLUDE_DIR})
  essay_warnings(replay_${_name})
  add_test(NAME fuzz/${_name} COMMAND replay_${_name} "${_seeds}")
  set_tests_properties(fuzz/${_name} PROPERTIES TIMEOUT 600)
endforeach()
