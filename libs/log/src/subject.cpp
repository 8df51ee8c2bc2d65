#include "kelvin/log/subject.hpp"

namespace kelvin::log {
namespace {

// One stack per thread: spdlog's sinks here are synchronous, so a record is formatted on the
// thread that logs it, while that thread's subjects are in force.
thread_local std::vector<std::pair<SubjectKey, std::string>> subjects;

}  // namespace

std::string_view to_string(SubjectKey key) noexcept {
  switch (key) {
    case SubjectKey::device:
      return "device";
    case SubjectKey::rule:
      return "rule";
    case SubjectKey::subject:
      return "subject";
    case SubjectKey::user:
      return "user";
    case SubjectKey::gateway:
      return "gateway";
    case SubjectKey::webhook:
      return "webhook";
    case SubjectKey::client:
      return "client";
  }
  return "subject";
}

Subjects::Subjects(std::initializer_list<std::pair<SubjectKey, std::string_view>> named) : count_(named.size()) {
  for (const auto& [key, value] : named) subjects.emplace_back(key, std::string(value));
}

// Subjects are locals that cannot move, so they end in the reverse order they began.
Subjects::~Subjects() {
  subjects.resize(subjects.size() - count_);
}

const std::vector<std::pair<SubjectKey, std::string>>& subjects_of_this_thread() noexcept {
  return subjects;
}

}  // namespace kelvin::log
