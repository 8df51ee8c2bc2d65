#pragma once
// Password hashes for people's accounts (docs/api.md, "Accounts and sessions"): Argon2id from
// libsodium, in its self-describing string form ("$argon2id$v=19$m=65536,t=2,p=1$…"), so a hash
// stored today still verifies after the cost is raised. Free of libsodium includes.
//
// Cost: t = 2 passes over m = 64 MiB (libsodium's "interactive" limits; above OWASP's minimum of
// m = 19 MiB, t = 2). About 0.1 s on a desktop core, a few tenths on a Raspberry Pi 4: call it off
// any thread that serves others, and bound how many run at once (each holds 64 MiB meanwhile).

#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::crypto {

// Longest password accepted for hashing: Argon2 takes any length, this bounds the work a request
// can cause and the bytes it makes us hold.
inline constexpr std::size_t kMaxPasswordBytes = 256;

// Errc::invalid_argument for an empty or too long password, Errc::crypto when the memory cannot
// be had.
Result<std::string> hash_password(std::string_view password);

// Whether `password` matches `hash` (a string from hash_password, any cost). False for a
// malformed hash or a password that is too long, never an error: the caller's answer is "no".
bool verify_password(std::string_view hash, std::string_view password);

}  // namespace kelvin::crypto
