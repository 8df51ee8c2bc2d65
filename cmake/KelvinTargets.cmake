# Project-wide compile settings, applied per target so that third-party code is never affected.

# Sanitizers are applied globally so every object, test and app in a sanitized build agrees on the
# runtime. ThreadSanitizer cannot share a process with AddressSanitizer: one or the other.
if(KELVIN_SANITIZE AND KELVIN_SANITIZE_THREAD)
  message(FATAL_ERROR "KELVIN_SANITIZE (ASan + UBSan) and KELVIN_SANITIZE_THREAD (TSan) cannot be combined")
endif()
if(KELVIN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(KELVIN_SANITIZE_THREAD)
  # Only kelvin's code is instrumented; the system's libsqlite3, libcurl, libmosquitto, spdlog and
  # GoogleTest are not, so TSan sees their locks (pthread calls) but not their memory accesses.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# kelvin_target_defaults(<target>): warnings (and -Werror when KELVIN_WERROR) for kelvin's own code.
function(kelvin_target_defaults target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
  if(KELVIN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# kelvin_library(<name> SOURCES ... DEPS ...): a library under libs/<name> exposing include/.
function(kelvin_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(kelvin_${name} STATIC ${ARG_SOURCES})
  add_library(kelvin::${name} ALIAS kelvin_${name})
  target_include_directories(kelvin_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(kelvin_${name} PUBLIC ${ARG_DEPS})
  kelvin_target_defaults(kelvin_${name})
endfunction()

# kelvin_portable_defaults(<target>): code that must also build for a microcontroller (the device
# core and what it uses). No exceptions and no RTTI, so a port to a toolchain without them keeps
# compiling. Interfaces (abstract classes) in such code must have only pure virtual functions and
# an inline virtual destructor: a class with a key function defined here would have no typeinfo
# for RTTI-enabled code deriving from it.
function(kelvin_portable_defaults target)
  target_compile_options(${target} PRIVATE -fno-exceptions -fno-rtti)
endfunction()

# kelvin_test(<name> SOURCES ... DEPS ...): a GoogleTest executable registered with CTest, each of
# its tests labelled <name> (ctest -L <name> runs one executable's tests; the tsan test preset
# selects its executables so).
function(kelvin_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} kelvin_test_support GTest::gtest GTest::gmock GTest::gtest_main)
  kelvin_target_defaults(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${name})
endfunction()
