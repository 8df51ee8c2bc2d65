#pragma once
// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it: which of a process's
// threads uses the CPU, without a debugger. Linux keeps at most 15 bytes of a name; a longer one
// is cut there. Best effort: a failure changes nothing else.

#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace kelvin::core {

inline constexpr std::size_t kMaxThreadNameBytes = 15;

void name_this_thread(std::string_view name) noexcept;

// A thread that names itself `name`, then runs `body`: how every long-lived thread of kelvin starts.
template <typename Body>
std::thread named_thread(std::string_view name, Body&& body) {
  return std::thread([name = std::string(name), body = std::forward<Body>(body)]() mutable {
    name_this_thread(name);
    body();
  });
}

}  // namespace kelvin::core
