#pragma once
// The gateway's HTTPS API as the integration tests call it from outside: Debian's curl trusting the
// installation's CA (never -k), as a browser with a cookie jar or as a device with its certificate.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "installation.hpp"

namespace kelvin::testing {

struct HttpsAnswer {
  int exit_code = -1;  // curl's
  int status = 0;      // 0 when curl got no answer
  nlohmann::json body;  // discarded (is_discarded()) when the body is not JSON
  std::string headers;  // the response's header block, when asked for
  std::string raw;      // curl's output and errors, for failure messages
};

// curl -sS with `args` (method, headers, data, certificates) and `url` last; the status and the
// JSON body parsed from the output. With `header_file`, the header block is read from it.
HttpsAnswer curl_json(const std::filesystem::path& ca_file, std::vector<std::string> args, const std::string& url,
                      const std::optional<std::filesystem::path>& header_file = std::nullopt);

// https://localhost:<port><path>
std::string gateway_url(int port, const std::string& path);

// The admin password kelvin-gateway prints at its first start, from its log; "" if none.
std::string first_admin_password(const std::string& gateway_log);

// A device's request with its certificate (or none): `body` sent as `content_type`.
HttpsAnswer device_request(const Installation& install, int port, const std::optional<DeviceFiles>& identity,
                           const std::string& method, const std::string& path, const std::string& body,
                           const std::string& content_type = "application/json");

// One browser: a cookie jar of its own, and the CSRF token of its session once signed in.
class Browser {
 public:
  Browser(const Installation& install, int port, std::filesystem::path jar);

  HttpsAnswer request(const std::string& method, const std::string& path,
                      const std::optional<nlohmann::json>& body = std::nullopt, bool with_csrf = true,
                      const std::vector<std::string>& extra = {});
  HttpsAnswer sign_in(const std::string& user, const std::string& password, const std::string& code = "");

  const std::filesystem::path& cookie_jar() const { return jar_; }
  const std::filesystem::path& ca_file() const { return ca_; }
  std::string url(const std::string& path) const { return gateway_url(port_, path); }

  std::string csrf;

 private:
  std::filesystem::path ca_;
  int port_;
  std::filesystem::path jar_;
};

}  // namespace kelvin::testing
