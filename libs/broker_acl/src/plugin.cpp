// kelvin-broker-acl: a Mosquitto 2.0 plugin (API version 5) that counts what the ACL refuses, and
// reports the certificate each client connected with.
//
// Mosquitto refuses a publish or a delivery outside a client's ACL without a word above its debug
// log level, which is far too verbose to run with. This plugin judges every publish (write) and
// delivery (read) by the same ACL file the broker reads (`plugin_opt_acl_file`, acl_file.hpp) and
// refuses, and counts, what that file refuses. What it allows it leaves to the broker's own
// acl_file check (MOSQ_ERR_PLUGIN_DEFER), which therefore still decides: the plugin can only ever
// refuse more, never allow more, and an exception inside it defers too. Subscriptions are left to
// the broker (Mosquitto 2.0.11's acl_file grants every subscription and judges each delivery).
//
// The first ACL check of a connection (its first subscription, publish or delivery) also notes the
// serial of the client's certificate (client_certificate_report.hpp): Mosquitto gives a plugin no
// event at a connection with use_identity_as_username, and logs no certificate. A connection is
// noted once: the clients seen are kept until Mosquitto's MOSQ_EVT_DISCONNECT for them.
//
// Once a second a thread of its own writes what was refused, and the certificates noted, as log
// lines (denial_tally.hpp, client_certificate_report.hpp) to
// the broker's standard error, in Mosquitto's format ("<Unix time>: ..."), where kelvin-gateway
// reads the broker's log and counts them (broker_log.hpp). Not through mosquitto_log_printf, which
// is not made for a second thread, nor on the broker's MOSQ_EVT_TICK, which Mosquitto 2.0.11 never
// sends. Each line is one write of less than PIPE_BUF bytes, so it does not mix with the broker's.
// A broker that is killed loses at most the last second's counts.

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "kelvin/broker_acl/acl_file.hpp"
#include "kelvin/broker_acl/client_certificate_report.hpp"
#include "kelvin/broker_acl/denial_tally.hpp"

namespace {

using kelvin::broker_acl::Access;

// Lines naming a client in one report; the rest are summed (denial_tally.hpp).
constexpr std::size_t kMaxReportLines = 20;

class PluginState {
 public:
  explicit PluginState(kelvin::broker_acl::AclFile acl) : acl_(std::move(acl)) {}
  ~PluginState() { stop(); }

  const kelvin::broker_acl::AclFile& acl() const { return acl_; }

  void record(const char* client_id, Access access, const char* topic) {
    std::lock_guard lock(mutex_);
    tally_.record(client_id ? client_id : "", access, topic ? topic : "");
  }

  // The broker's thread: reports the certificate of `client` at its first check since it connected.
  void note_connection(const mosquitto* client) {
    if (connected_.contains(client)) return;
    const std::string serial = certificate_serial(client);
    if (serial.empty()) return;  // no certificate (yet): looked at again at its next check
    connected_.insert(client);
    const char* client_id = mosquitto_client_id(client);
    std::lock_guard lock(mutex_);
    certificates_.record(client_id ? client_id : "", serial);
  }

  // The broker's thread: `client` is gone; a later connection, even at the same address, is noted anew.
  void forget_connection(const mosquitto* client) { connected_.erase(client); }

  void start() {
    reporter_ = std::thread([this] { report_every_second(); });
  }

  // The serial of the certificate `client` presented, as the PKI index writes it; empty when it
  // presented none (or is not connected).
  static std::string certificate_serial(const mosquitto* client) {
    X509* certificate = static_cast<X509*>(mosquitto_client_certificate(client));
    if (certificate == nullptr) return {};
    std::string serial;
    if (BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr)) {
      if (char* hex = BN_bn2hex(number)) {
        serial = hex;
        OPENSSL_free(hex);
      }
      BN_free(number);
    }
    X509_free(certificate);
    return serial;
  }

  // Ends the reporting thread after its last report.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (reporter_.joinable()) reporter_.join();
  }

 private:
  void report_every_second() {
    std::unique_lock lock(mutex_);
    for (;;) {
      const bool last = wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      std::vector<std::string> lines;
      try {
        if (!tally_.empty()) lines = tally_.take_report(kMaxReportLines);
        if (!certificates_.empty()) {
          for (std::string& line : certificates_.take_report()) lines.push_back(std::move(line));
        }
      } catch (...) {
        // Out of memory while formatting: these counts are lost, the broker goes on.
      }
      lock.unlock();
      const long long now = static_cast<long long>(std::time(nullptr));
      for (const std::string& line : lines) std::fprintf(stderr, "%lld: %s\n", now, line.c_str());
      lock.lock();
      if (last) return;
    }
  }

  const kelvin::broker_acl::AclFile acl_;
  std::mutex mutex_;
  std::condition_variable wake_;
  kelvin::broker_acl::DenialTally tally_;
  kelvin::broker_acl::ClientCertificateReport certificates_;
  bool stopping_ = false;
  std::thread reporter_;
  // The broker's thread only: the clients whose certificate was reported since they connected.
  std::unordered_set<const mosquitto*> connected_;
};

struct Plugin {
  mosquitto_plugin_id_t* id = nullptr;
  std::unique_ptr<PluginState> state;
};

bool broker_matches(const char* filter, const char* topic) {
  bool result = false;
  return mosquitto_topic_matches_sub(filter, topic, &result) == MOSQ_ERR_SUCCESS && result;
}

int on_acl_check(int, void* event_data, void* userdata) {
  try {
    auto* check = static_cast<mosquitto_evt_acl_check*>(event_data);
    auto* state = static_cast<PluginState*>(userdata);
    state->note_connection(check->client);
    if (check->access != MOSQ_ACL_READ && check->access != MOSQ_ACL_WRITE) return MOSQ_ERR_PLUGIN_DEFER;
    const Access access = check->access == MOSQ_ACL_READ ? Access::read : Access::write;
    const char* client_id = mosquitto_client_id(check->client);
    if (kelvin::broker_acl::allows(state->acl(), access, check->topic, mosquitto_client_username(check->client),
                                   client_id, broker_matches)) {
      return MOSQ_ERR_PLUGIN_DEFER;
    }
    state->record(client_id, access, check->topic);
    return MOSQ_ERR_ACL_DENIED;
  } catch (...) {
    return MOSQ_ERR_PLUGIN_DEFER;  // the broker's own check decides
  }
}

int on_disconnect(int, void* event_data, void* userdata) {
  try {
    static_cast<PluginState*>(userdata)->forget_connection(static_cast<mosquitto_evt_disconnect*>(event_data)->client);
  } catch (...) {
  }
  return MOSQ_ERR_SUCCESS;
}

const char* option(const mosquitto_opt* options, int count, const std::string& key) {
  for (int i = 0; i < count; ++i) {
    if (options[i].key && key == options[i].key) return options[i].value;
  }
  return nullptr;
}

}  // namespace

// The plugin is built with hidden visibility (its C++ symbols stay its own inside the broker); the
// three functions Mosquitto looks up are exported.
#define KELVIN_PLUGIN_EXPORT __attribute__((visibility("default")))

extern "C" {

KELVIN_PLUGIN_EXPORT int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

KELVIN_PLUGIN_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                                               mosquitto_opt* options, int option_count) {
  try {
    const char* path = option(options, option_count, "acl_file");
    if (!path) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "kelvin-broker-acl: plugin_opt_acl_file is not set");
      return MOSQ_ERR_INVAL;
    }
    std::ifstream file(path);
    std::ostringstream text;
    text << file.rdbuf();
    if (!file) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "kelvin-broker-acl: cannot read %s", path);
      return MOSQ_ERR_INVAL;
    }
    auto parsed = kelvin::broker_acl::parse_acl_file(text.str());
    if (!parsed.acl) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "kelvin-broker-acl: %s: %s", path, parsed.error.c_str());
      return MOSQ_ERR_INVAL;
    }
    auto plugin = std::make_unique<Plugin>();
    plugin->id = identifier;
    plugin->state = std::make_unique<PluginState>(std::move(*parsed.acl));
    // The reporter first: once registered, the check may record at any time.
    plugin->state->start();
    if (mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr, plugin->state.get()) !=
        MOSQ_ERR_SUCCESS) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "kelvin-broker-acl: cannot register for disconnections");
      return MOSQ_ERR_UNKNOWN;  // the state, and its reporter, go with `plugin`
    }
    if (mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr, plugin->state.get()) !=
        MOSQ_ERR_SUCCESS) {
      mosquitto_callback_unregister(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
      mosquitto_log_printf(MOSQ_LOG_ERR, "kelvin-broker-acl: cannot register its ACL check");
      return MOSQ_ERR_UNKNOWN;
    }
    *userdata = plugin.release();
    return MOSQ_ERR_SUCCESS;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "kelvin-broker-acl: %s", e.what());
    return MOSQ_ERR_UNKNOWN;
  }
}

KELVIN_PLUGIN_EXPORT int mosquitto_plugin_cleanup(void* userdata, mosquitto_opt*, int) {
  std::unique_ptr<Plugin> plugin(static_cast<Plugin*>(userdata));
  if (!plugin) return MOSQ_ERR_SUCCESS;
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr);
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
  plugin->state->stop();  // after the last report
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
