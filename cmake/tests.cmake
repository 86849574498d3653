# SPDX-License-Identifier: GPL-2.0-only
# Tests: every tests/unit/<module>_test.c is a cmocka program, run twice:
# plain and under ASan+UBSan. Every tests/fuzz/fuzz_<name>.c is a libFuzzer
# target run for STEER_FUZZ_SECONDS. tests/oracle holds tshark cross-checks.

set(STEER_PCAPS ${STEER_DATA_DIR}/pcaps)
set(STEER_TEST_ENV "STEER_PCAPS=${STEER_PCAPS};STEER_BIN=${CMAKE_BINARY_DIR}/bin;STEER_SRC=${CMAKE_SOURCE_DIR}")

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*_test.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} steer PkgConfig::CMOCKA)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME unit/${name} COMMAND ${name})
  set_tests_properties(unit/${name} PROPERTIES LABELS unit ENVIRONMENT "${STEER_TEST_ENV}")

  add_executable(${name}_san ${src})
  target_link_libraries(${name}_san steer_san PkgConfig::CMOCKA)
  set_target_properties(${name}_san PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME san/${name} COMMAND ${name}_san)
  set_tests_properties(san/${name} PROPERTIES LABELS san ENVIRONMENT
    "${STEER_TEST_ENV};ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endforeach()

# The gossip network simulator is shared with the ownership benchmark.
foreach(t gossip_sim_test gossip_sim_test_san gossip_dir_test gossip_dir_test_san)
  target_sources(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests/sim/gossip_sim.c)
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
endforeach()

# Fuzz targets need clang's libFuzzer.
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
  foreach(src ${FUZZ_TARGETS})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src} ${STEER_LIB_SRC})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name} PkgConfig::PCAP m)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    set(corpus ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
    add_test(NAME fuzz/${name}
      COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh $<TARGET_FILE:${name}> ${corpus} ${STEER_FUZZ_SECONDS})
    set_tests_properties(fuzz/${name} PROPERTIES LABELS fuzz ENVIRONMENT "${STEER_TEST_ENV}"
      TIMEOUT 600)
  endforeach()
else()
  message(WARNING "fuzz targets skipped: they need clang (libFuzzer), CC is ${CMAKE_C_COMPILER_ID}")
endif()

# The gossip fuzz target's seeds: real gossip of a node of its cluster
# (tests/fuzz/gossip_seeds.c; tests/fuzz/corpus/README.md).
add_executable(gossip_seeds ${CMAKE_SOURCE_DIR}/tests/fuzz/gossip_seeds.c)
target_link_libraries(gossip_seeds steer)
set_target_properties(gossip_seeds PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# Helper programs of the oracle tests.
file(GLOB ORACLE_TOOLS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/oracle/*.c)
foreach(src ${ORACLE_TOOLS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  target_link_libraries(${name} steer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endforeach()
file(GLOB ORACLE_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/oracle/test_*.py)
foreach(src ${ORACLE_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME oracle/${name} COMMAND python3 ${src})
  set_tests_properties(oracle/${name} PROPERTIES LABELS oracle TIMEOUT 900
    ENVIRONMENT "${STEER_TEST_ENV};STEER_TESTS=${CMAKE_BINARY_DIR}/tests"
    SKIP_RETURN_CODE 77)
endforeach()

add_test(NAME style/clang-format COMMAND ${CMAKE_SOURCE_DIR}/scripts/check-format.sh)
set_tests_properties(style/clang-format PROPERTIES LABELS style WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})

# Lab tests: network namespaces, XDP, cgroups (root; 77 = skipped). They
# build and tear down the lab themselves, one at a time.
file(GLOB LAB_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/lab/test_*.sh)
foreach(src ${LAB_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME lab/${name} COMMAND bash ${src})
  set_tests_properties(lab/${name} PROPERTIES LABELS lab TIMEOUT 900
    RUN_SERIAL TRUE SKIP_RETURN_CODE 77
    ENVIRONMENT "${STEER_TEST_ENV}")
endforeach()

# The lab's tools end to end on loopback (no root): tests/tools/test_*.py.
file(GLOB TOOL_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/tools/test_*.py)
foreach(src ${TOOL_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME tools/${name} COMMAND python3 ${src})
  set_tests_properties(tools/${name} PROPERTIES LABELS tools TIMEOUT 120
    ENVIRONMENT "${STEER_TEST_ENV}" SKIP_RETURN_CODE 77)
endforeach()
