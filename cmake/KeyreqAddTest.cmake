# keyreq_add_test(NAME name SOURCES a.cpp ... [LIBS lib ...] [LABELS label]
#                 [DEPENDS target ...] [TIMEOUT seconds] [TEST_PREFIX prefix]
#                 [RUN_SERIAL] [NO_GTEST_MAIN])
#
# One GoogleTest executable, linked with keyreq_testkit (which knows where the
# built binaries and the sources are: nothing is passed through compile
# definitions or the test environment), registered test by test with
# gtest_discover_tests. DEPENDS: binaries the test runs, built first.
# Labels select tests: `concurrency` (the CI's TSan step), `slow`.
function(keyreq_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 T "RUN_SERIAL;NO_GTEST_MAIN" "NAME;TIMEOUT;TEST_PREFIX" "SOURCES;LIBS;LABELS;DEPENDS")
  if(NOT T_NAME OR NOT T_SOURCES)
    message(FATAL_ERROR "keyreq_add_test: NAME and SOURCES are required")
  endif()
  if(T_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "keyreq_add_test(${T_NAME}): unknown arguments ${T_UNPARSED_ARGUMENTS}")
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  set(main GTest::gtest_main)
  if(T_NO_GTEST_MAIN)
    set(main "")
  endif()
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} keyreq_testkit GTest::gtest GTest::gmock ${main})
  if(T_DEPENDS)
    add_dependencies(${T_NAME} ${T_DEPENDS})
  endif()
  # One label per test: gtest_discover_tests (CMake 3.25) flattens list-valued
  # PROPERTIES, so a second label would be read as a property name.
  list(LENGTH T_LABELS label_count)
  if(label_count GREATER 1)
    message(FATAL_ERROR "keyreq_add_test(${T_NAME}): one label only, got ${T_LABELS}")
  endif()
  set(properties "")
  if(T_LABELS)
    list(APPEND properties LABELS ${T_LABELS})
  endif()
  if(T_TIMEOUT)
    list(APPEND properties TIMEOUT ${T_TIMEOUT})
  endif()
  if(T_RUN_SERIAL)
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  set(prefix "")
  if(T_TEST_PREFIX)
    set(prefix TEST_PREFIX ${T_TEST_PREFIX})
  endif()
  if(properties)
    gtest_discover_tests(${T_NAME} ${prefix} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})
  else()
    gtest_discover_tests(${T_NAME} ${prefix} DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
