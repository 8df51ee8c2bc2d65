#include "locked_down_broker.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

namespace kelvin::testing {

LockedDownBroker::LockedDownBroker(const Installation& install) : port_(free_tcp_port()) {
  const auto dir = install.root() / "locked-down-broker";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dynsec.json") << R"({"defaultACLAccess":[)"
                                     << R"({"acltype":"publishClientSend","allow":true},)"
                                     << R"({"acltype":"publishClientReceive","allow":true},)"
                                     << R"({"acltype":"subscribe","allow":false},)"
                                     << R"({"acltype":"unsubscribe","allow":true}],)"
                                     << R"("clients":[],"groups":[],"roles":[]})";
  const auto pki = install.pki_dir();
  std::ofstream(dir / "mosquitto.conf") << "user root\npersistence false\nlog_dest stderr\n"
                                        << "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\n"
                                        << "plugin_opt_config_file " << (dir / "dynsec.json").string() << "\n"
                                        << "listener " << port_ << " 127.0.0.1\n"
                                        << "cafile " << (pki / "ca.crt").string() << "\n"
                                        << "certfile " << (pki / "server" / "server.crt").string() << "\n"
                                        << "keyfile " << (pki / "server" / "server.key").string() << "\n"
                                        << "require_certificate true\nuse_identity_as_username true\n";
  broker_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{"mosquitto", "-c", (dir / "mosquitto.conf").string()}, dir / "broker.log");
  const bool listening =
      wait_until([&] { return read_text(dir / "broker.log").find("Opening ipv4 listen socket") != std::string::npos; },
                 std::chrono::seconds(10));
  if (!listening) ADD_FAILURE() << "the locked-down broker did not start:\n" << broker_->log();
}

}  // namespace kelvin::testing
