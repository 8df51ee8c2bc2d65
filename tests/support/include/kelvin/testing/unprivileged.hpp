#pragma once
// Permission checks that root bypasses (an unwritable directory, a read-only file), run as an
// unprivileged account so they are tested where the suite runs as root (CI, `make test`).
//
// run_unprivileged() forks; the child drops to the account and runs the check; the parent gets
// back what the check returned and asserts on it. As root the account is `nobody` (group
// `nogroup`, no supplementary groups); as any other user the child keeps that user, who is
// unprivileged already. So the same test runs, and means the same, whoever runs the suite.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace kelvin::testing {

struct Account {
  uid_t uid;
  gid_t gid;
};

// The account run_unprivileged() uses: nobody:nogroup as root, the test's own user otherwise.
Account unprivileged_account();

// Gives `path` and everything below it to the unprivileged account (chown; nothing to do when not
// root), so files a test prepared are the child's as they would be an ordinary user's. Adds a
// test failure and returns false when it cannot, or when the child could not even reach `path`
// (a parent directory closed to others, as a TMPDIR under /root would be).
bool give_to_unprivileged(const std::filesystem::path& path);

// Runs `check` in a child process as the unprivileged account and returns its result. `check`
// must not use gtest assertions (they would be lost with the child): it describes what it saw in
// the string it returns, and the test asserts on that. Returns nullopt, with a test failure
// saying why, when the child could not drop its privileges (checked: it must not get root back),
// threw, or died. The child is a fork(): call it while the test runs no other threads, which
// could hold a lock (malloc's, a logger's) the child then waits on forever.
std::optional<std::string> run_unprivileged(const std::function<std::string()>& check);

}  // namespace kelvin::testing
