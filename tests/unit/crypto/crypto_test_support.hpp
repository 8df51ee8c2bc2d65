#pragma once
// Shared by the crypto unit tests.

#include <gtest/gtest.h>

#include "kelvin/crypto/keys.hpp"

namespace kelvin::crypto::test_support {

inline PKey fresh_key() {
  auto key = generate_p256_key();
  if (!key.ok()) {
    ADD_FAILURE() << key.error().message;
    return nullptr;
  }
  return std::move(key).value();
}

}  // namespace kelvin::crypto::test_support
