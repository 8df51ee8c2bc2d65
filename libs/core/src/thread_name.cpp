#include "kelvin/core/thread_name.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace kelvin::core {

void name_this_thread(std::string_view name) noexcept {
  std::array<char, kMaxThreadNameBytes + 1> terminated{};
  const std::size_t length = std::min(name.size(), kMaxThreadNameBytes);
  std::copy_n(name.data(), length, terminated.data());
  // ERANGE is impossible at this length; nothing else can go wrong for the calling thread.
  (void)pthread_setname_np(pthread_self(), terminated.data());
}

}  // namespace kelvin::core
