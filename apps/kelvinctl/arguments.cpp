#include "arguments.hpp"

#include <string>

#include "kelvin/core/identity.hpp"

namespace kelvin::ctl {
namespace {

// A validator that refuses with the message of `validate`'s error.
CLI::Validator grammar_check(Result<void> (*validate)(std::string_view), const char* name, const char* description) {
  return CLI::Validator(
      [validate](std::string& value) -> std::string {
        auto valid = validate(value);
        return valid ? std::string() : valid.error().message;
      },
      name, description);
}

}  // namespace

CLI::Validator device_id_check() {
  return grammar_check(validate_device_id, "ID", "device id");
}

CLI::Validator label_check() {
  return grammar_check(validate_label, "LABEL", "label");
}

}  // namespace kelvin::ctl
