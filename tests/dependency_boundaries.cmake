# Fails when product code includes a third-party header outside the code allowed to use it
# (docs/architecture.md, "Dependency rules"), naming file, line and the rule. Run by ctest
# (dependency_boundaries):
#   cmake -DSOURCE_DIR=<repository root> -P dependency_boundaries.cmake
# Scans every .cpp, .hpp and .h under libs/, apps/ and ports/; tests/ and bench/ may include
# anything. Both #include <...> and #include "..." count. The rule is about include lines: a
# header that reaches OpenSSL through a public kelvin header (kelvin/crypto/openssl.hpp) passes.
# The device core's stricter rule (C++ standard library headers only) is device_portable_headers'.

cmake_minimum_required(VERSION 3.25)

# One rule per library: what its headers look like (a regex on the name between the brackets),
# where they may be included (a regex on the path from the repository root), and that place in
# words for the message. Keep in step with the table in docs/architecture.md.
set(rules)
function(rule name header_regex allowed_regex allowed_text)
  set(rules ${rules} "${name}" PARENT_SCOPE)
  set(rule_header_${name} "${header_regex}" PARENT_SCOPE)
  set(rule_allowed_${name} "${allowed_regex}" PARENT_SCOPE)
  set(rule_text_${name} "${allowed_text}" PARENT_SCOPE)
endfunction()
rule(OpenSSL "^openssl/" "^libs/((crypto|pki|influx)/|broker_acl/src/plugin\\.cpp$)"
  "libs/crypto, libs/pki and libs/influx, and the broker plugin (libs/broker_acl/src/plugin.cpp: the serial of a client's certificate)")
rule(libmosquitto "^(mosquitto|mqtt_protocol)\\.h$" "^libs/(mqtt|broker_acl/src)/"
  "libs/mqtt, and libs/broker_acl/src (the broker plugin: Mosquitto's own topic matching)")
rule(mosquitto_plugin "^mosquitto_(broker|plugin)\\.h$" "^libs/broker_acl/src/" "libs/broker_acl/src (the broker plugin)")
rule(SQLite "^sqlite3(ext)?\\.h$" "^libs/store/" "libs/store")
rule(libsodium "^sodium(\\.h|/)" "^libs/crypto/" "libs/crypto")
rule(libcurl "^curl/" "^(libs/curl/src|libs/influx|ports/linux/src)/"
  "libs/curl/src, libs/influx and ports/linux/src (the agent's HTTPS client)")
rule(zlib "^(zlib|zconf)\\.h$" "^libs/influx/" "libs/influx")
rule(nlohmann_json "^nlohmann/" "^(libs/[^/]+/src|ports/[^/]+/src|apps)/"
  "implementation files (libs/*/src, ports/*/src, apps/), never a library's public header")
rule(tomlplusplus "^toml\\+\\+/" "^libs/config/" "libs/config")
rule(spdlog "^spdlog/" "^(libs/(gateway|log)|apps)/" "libs/gateway, libs/log and apps/")
rule(CLI11 "^CLI/" "^apps/" "apps/")
rule(Boost "^boost/" "^libs/http/src/" "libs/http's implementation files (libs/http/src)")
rule(GoogleTest "^(gtest|gmock)/" "^$" "tests/ only")

# The patterns themselves are checked first, so a typo cannot make the scan pass vacuously:
# each sample header must be claimed by exactly the rule named.
set(samples
  "openssl/rand.h=OpenSSL" "openssl/x509v3.h=OpenSSL" "mosquitto.h=libmosquitto" "mqtt_protocol.h=libmosquitto"
  "mosquitto_broker.h=mosquitto_plugin" "mosquitto_plugin.h=mosquitto_plugin"
  "sqlite3.h=SQLite" "sodium.h=libsodium" "sodium/crypto_pwhash.h=libsodium" "curl/curl.h=libcurl" "zlib.h=zlib" "nlohmann/json.hpp=nlohmann_json"
  "toml++/toml.h=tomlplusplus" "spdlog/spdlog.h=spdlog" "CLI/CLI.hpp=CLI11" "gtest/gtest.h=GoogleTest"
  "boost/beast/http.hpp=Boost" "boost/asio/ssl.hpp=Boost"
  "string=" "openssl.hpp=" "kelvin/crypto/openssl.hpp=" "sqlite3.hpp=" "curl.h=" "kelvin/http/server.hpp=")
function(rule_of header out)
  set(found "")
  foreach(name IN LISTS rules)
    if(header MATCHES "${rule_header_${name}}")
      list(APPEND found "${name}")
    endif()
  endforeach()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()
foreach(sample IN LISTS samples)
  string(REPLACE "=" ";" pair "${sample}")
  list(GET pair 0 header)
  list(LENGTH pair length)
  set(expected "")
  if(length GREATER 1)
    list(GET pair 1 expected)
  endif()
  rule_of("${header}" claimed)
  if(NOT "${claimed}" STREQUAL "${expected}")
    message(FATAL_ERROR "dependency_boundaries.cmake is broken: <${header}> matches rules '${claimed}', "
                        "expected '${expected}'")
  endif()
endforeach()

set(include_regex "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
set(files)
foreach(root libs apps ports)
  file(GLOB_RECURSE found RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/${root}/*.cpp" "${SOURCE_DIR}/${root}/*.hpp"
       "${SOURCE_DIR}/${root}/*.h")
  list(APPEND files ${found})
endforeach()
list(LENGTH files file_count)
if(file_count LESS 100)
  message(FATAL_ERROR "only ${file_count} source files under ${SOURCE_DIR}/{libs,apps,ports}: wrong SOURCE_DIR?")
endif()

set(problems)
set(checked_includes 0)
foreach(file IN LISTS files)
  # Cheap pass over include lines only; line numbers come from a full read of a file that fails.
  file(STRINGS "${SOURCE_DIR}/${file}" include_lines REGEX "^[ \t]*#[ \t]*include")
  set(file_fails FALSE)
  foreach(line IN LISTS include_lines)
    if(line MATCHES "${include_regex}")
      math(EXPR checked_includes "${checked_includes} + 1")
      rule_of("${CMAKE_MATCH_1}" name)
      if(name AND NOT file MATCHES "${rule_allowed_${name}}")
        set(file_fails TRUE)
      endif()
    endif()
  endforeach()
  if(NOT file_fails)
    continue()
  endif()
  file(STRINGS "${SOURCE_DIR}/${file}" lines)
  set(line_number 0)
  foreach(line IN LISTS lines)
    math(EXPR line_number "${line_number} + 1")
    if(line MATCHES "${include_regex}")
      set(header "${CMAKE_MATCH_1}")
      rule_of("${header}" name)
      if(name AND NOT file MATCHES "${rule_allowed_${name}}")
        list(APPEND problems
          "${file}:${line_number}: includes <${header}> (${name}: only in ${rule_text_${name}})")
      endif()
    endif()
  endforeach()
endforeach()

if(problems)
  list(JOIN problems "\n  " listing)
  message(FATAL_ERROR "Third-party headers outside the code allowed to include them (docs/architecture.md, "
                      "\"Dependency rules\"):\n  ${listing}\nMove the call behind a function of the library "
                      "that owns the dependency.")
endif()
message(STATUS "dependency boundaries kept: ${file_count} files, ${checked_includes} includes checked")
