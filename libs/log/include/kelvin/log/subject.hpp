#pragma once
// What a log record is about, as keys of its own beside the message, so that a machine can select
// the records of one device, rule, user, peer gateway, webhook or client address without parsing
// text:
//
//   {"time":"…","level":"warn","component":"alerts","rule":"freezer_warm","subject":"sensor-01",
//    "message":"alert freezer_warm firing for sensor-01: …"}
//
// A Subjects object names them for the records its thread logs while it lives:
//
//   const log::Subjects about{{log::SubjectKey::rule, rule.name}, {log::SubjectKey::user, actor.name}};
//   log::component("https").info("{} removed the alert rule {}", actor.name, rule.name);
//
// Declare it as a local variable around the logging call (they nest; the innermost value of a key
// wins). The message still says the same in words, for people.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kelvin::log {

// The keys a record may carry besides time, level, component and message, in the order they are
// written. `device` also comes from a device's own logger (log::component(name, device)), whose
// device a record carries instead of one named by Subjects.
enum class SubjectKey : std::uint8_t {
  device,   // a device id
  rule,     // an alert rule's name
  subject,  // what an alert is about (a device, a certificate, "gateway"), as the alerts API names it
  user,     // the account acting, or acted on
  gateway,  // another gateway of the share group, by its service identity
  webhook,  // a webhook's name ([[alerts.webhook]])
  client,   // the network address a connection or request came from
};
inline constexpr std::size_t kSubjectKeyCount = static_cast<std::size_t>(SubjectKey::client) + 1;  // the last one

std::string_view to_string(SubjectKey key) noexcept;

class Subjects {
 public:
  Subjects(std::initializer_list<std::pair<SubjectKey, std::string_view>> subjects);
  ~Subjects();
  Subjects(const Subjects&) = delete;
  Subjects& operator=(const Subjects&) = delete;
  Subjects(Subjects&&) = delete;
  Subjects& operator=(Subjects&&) = delete;

 private:
  std::size_t count_;
};

// The subjects of the calling thread, outermost first (for the formatter).
const std::vector<std::pair<SubjectKey, std::string>>& subjects_of_this_thread() noexcept;

}  // namespace kelvin::log
