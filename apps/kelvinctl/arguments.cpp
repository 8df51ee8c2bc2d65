#include "arguments.hpp"

#include <string>

#include "kelvin/core/identity.hpp"

namespace kelvin::ctl {

CLI::Validator device_id_check() {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        auto valid = validate_device_id(id);
        return valid ? std::string() : valid.error().message;
      },
      "ID", "device id");
}

}  // namespace kelvin::ctl
