#pragma once
// A stand-in for the platform's Ed25519 in the proto tests (the real one is tested in crypto_test
// and release_test): a signature is "sig(<key id>):" followed by the message, which is enough to
// tell what was signed, by whom.

#include <string>
#include <string_view>

#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::proto {

class FakeKey : public ReleaseKey {
 public:
  explicit FakeKey(std::string id) : id_(std::move(id)) {}
  std::string_view key_id() const override { return id_; }
  bool verify(std::string_view message, std::string_view signature) const override {
    return signature == sign(message);
  }
  std::string sign(std::string_view message) const { return "sig(" + id_ + "):" + std::string(message); }

 private:
  std::string id_;
};

}  // namespace kelvin::proto
