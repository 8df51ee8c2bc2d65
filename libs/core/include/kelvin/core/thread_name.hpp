#pragma once
// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it: which of a process's
// threads uses the CPU, without a debugger. Linux keeps at most 15 bytes of a name; a longer one
// is cut there. Best effort: a failure changes nothing else.

#include <cstddef>
#include <string_view>

namespace kelvin::core {

inline constexpr std::size_t kMaxThreadNameBytes = 15;

void name_this_thread(std::string_view name) noexcept;

}  // namespace kelvin::core
