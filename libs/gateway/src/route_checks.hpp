#pragma once
// Checks of a request that several route files make before any work is handed over, answered on
// the I/O thread.

#include <optional>
#include <string>
#include <variant>

#include "kelvin/http/message.hpp"

namespace kelvin::gateway {

// The {id} of the path if it is a device id, else the 400 invalid_device_id answer.
std::variant<std::string, http::Response> device_id_of(const http::Request& request);

// For routes without parameters: the 400 answer when the request has any (a client that sends one
// expects it to mean something), else nullopt.
std::optional<http::Response> refuse_parameters(const http::Request& request);

}  // namespace kelvin::gateway
