# Fails when the device core, or anything it compiles in, includes an OS header or a third-party
# header (anything in angle brackets that is not the C++ standard library), or calls the OS for
# time, randomness or output. Run by ctest (device_portable_headers):
#   cmake -DCONFIG=<file setting PORTABLE_ROOTS and PORTABLE_INCLUDE_DIRS> -P check_portable.cmake
# PORTABLE_ROOTS: directories (scanned recursively for .hpp/.cpp/.h) and source files.
# PORTABLE_INCLUDE_DIRS: where quoted includes ("kelvin/...") are looked up; every header reached
# from a scanned file is scanned too, so a portable file cannot pull in a non-portable header.

cmake_minimum_required(VERSION 3.25)
include(${CONFIG})

# Headers that mean an OS, a file system, threads, a terminal or a wall clock.
set(forbidden_headers
  unistd.h fcntl.h pthread.h dirent.h dlfcn.h poll.h netdb.h signal.h csignal syslog.h
  termios.h time.h ctime stdio.h cstdio cstdlib stdlib.h
  thread mutex shared_mutex condition_variable future stop_token semaphore latch barrier
  fstream iostream filesystem)
set(forbidden_prefixes "sys/" "arpa/" "netinet/" "linux/" "windows" "esp_" "freertos/")
# Every other header in angle brackets must be one of these, the C++20 standard library: the device
# core uses no third-party library, header-only ones included (a port's toolchain has none of
# the gateway's packages). The standard headers that mean the OS, listed above, stay refused.
set(standard_headers
  algorithm any array atomic barrier bit bitset cassert cctype cerrno cfenv cfloat charconv chrono
  cinttypes climits clocale cmath codecvt compare complex concepts condition_variable coroutine
  csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype deque
  exception execution filesystem format forward_list fstream functional future initializer_list
  iomanip ios iosfwd iostream istream iterator latch limits list locale map memory memory_resource
  mutex new numbers numeric optional ostream queue random ranges ratio regex scoped_allocator
  semaphore set shared_mutex source_location span sstream stack stdexcept stop_token streambuf
  string string_view syncstream system_error thread tuple type_traits typeindex typeinfo
  unordered_map unordered_set utility valarray variant vector version)
# Calls that reach the OS even through an allowed header (<chrono> clocks, <random> devices).
set(forbidden_calls
  "system_clock" "steady_clock" "high_resolution_clock" "file_clock" "random_device"
  "std::time[ \t]*\\(" "[^a-z_:.>]time[ \t]*\\([ \t]*(nullptr|NULL|0)[ \t]*\\)" "printf[ \t]*\\("
  "getenv" "std::cout" "std::cerr" "std::abort" "std::exit" "[^a-z_]rand[ \t]*\\(" "srand")

set(files)
set(problems)
foreach(root IN LISTS PORTABLE_ROOTS)
  if(IS_DIRECTORY "${root}")
    file(GLOB_RECURSE found "${root}/*.hpp" "${root}/*.cpp" "${root}/*.h")
    list(APPEND files ${found})
  elseif(EXISTS "${root}")
    list(APPEND files "${root}")
  else()
    list(APPEND problems "${root}: listed as portable but does not exist")
  endif()
endforeach()

set(scanned)
while(files)
  list(POP_FRONT files file)
  if(file IN_LIST scanned)
    continue()
  endif()
  list(APPEND scanned "${file}")
  file(STRINGS "${file}" lines)
  set(line_number 0)
  foreach(line IN LISTS lines)
    math(EXPR line_number "${line_number} + 1")
    # Comments may name forbidden things ("no <unistd.h> here"): check code only.
    string(REGEX REPLACE "//.*$" "" code "${line}")
    if(code MATCHES "^[ \t]*#[ \t]*include[ \t]*<([^>]+)>")
      set(header "${CMAKE_MATCH_1}")
      set(bad FALSE)
      if(header IN_LIST forbidden_headers)
        set(bad TRUE)
      endif()
      foreach(prefix IN LISTS forbidden_prefixes)
        string(FIND "${header}" "${prefix}" at)
        if(at EQUAL 0)
          set(bad TRUE)
        endif()
      endforeach()
      if(bad)
        list(APPEND problems "${file}:${line_number}: includes <${header}>")
      elseif(NOT header IN_LIST standard_headers)
        list(APPEND problems
          "${file}:${line_number}: includes <${header}>, which is not a C++ standard library header")
      endif()
    elseif(code MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\"")
      set(header "${CMAKE_MATCH_1}")
      get_filename_component(dir "${file}" DIRECTORY)
      set(resolved "")
      foreach(candidate_dir IN LISTS dir PORTABLE_INCLUDE_DIRS)
        if(NOT resolved AND EXISTS "${candidate_dir}/${header}")
          get_filename_component(resolved "${candidate_dir}/${header}" ABSOLUTE)
        endif()
      endforeach()
      if(resolved)
        list(APPEND files "${resolved}")
      else()
        list(APPEND problems "${file}:${line_number}: includes \"${header}\", which is in no portable include directory")
      endif()
    else()
      foreach(call IN LISTS forbidden_calls)
        if(code MATCHES "${call}")
          list(APPEND problems "${file}:${line_number}: uses ${CMAKE_MATCH_0}")
        endif()
      endforeach()
    endif()
  endforeach()
endwhile()

list(LENGTH scanned scanned_count)
if(problems)
  list(JOIN problems "\n  " listing)
  message(FATAL_ERROR "Non-portable code in the device core (it must build for a microcontroller):\n  ${listing}")
endif()
message(STATUS "device core portable: ${scanned_count} files scanned, no OS or third-party headers, no OS calls")
