// name_this_thread: the name the kernel shows for the thread (/proc/self/task/<tid>/comm), cut at
// 15 bytes.

#include "kelvin/core/thread_name.hpp"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace kelvin::core {
namespace {

// The kernel's name for the calling thread.
std::string name_of_this_thread() {
  std::ifstream comm("/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

std::string name_given_in_a_thread(std::string_view name) {
  std::string seen;
  std::thread thread([&] {
    name_this_thread(name);
    seen = name_of_this_thread();
  });
  thread.join();
  return seen;
}

TEST(ThreadName, TheKernelShowsTheName) {
  EXPECT_EQ(name_given_in_a_thread("ingest-commit"), "ingest-commit");
}

TEST(ThreadName, ALongNameIsCutAtFifteenBytes) {
  EXPECT_EQ(name_given_in_a_thread("a-name-of-twenty-bytes"), "a-name-of-twent");
}

TEST(ThreadName, OtherThreadsKeepTheirNames) {
  const std::string before = name_of_this_thread();
  (void)name_given_in_a_thread("elsewhere");
  EXPECT_EQ(name_of_this_thread(), before);
}

}  // namespace
}  // namespace kelvin::core
