#include "https_client.hpp"

#include <regex>

#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::testing {

HttpsAnswer curl_json(const std::filesystem::path& ca_file, std::vector<std::string> args, const std::string& url,
                      const std::optional<std::filesystem::path>& header_file) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "20", "--cacert", ca_file.string(), "-w", "\n%{http_code}"};
  if (header_file) argv.insert(argv.end(), {"-D", header_file->string()});
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  auto result = run_command(argv);
  HttpsAnswer answer;
  answer.exit_code = result.exit_code;
  answer.raw = result.out + result.err;
  if (header_file) answer.headers = read_text(*header_file);
  const auto newline = result.out.rfind('\n');
  if (result.exit_code != 0 || newline == std::string::npos) return answer;
  answer.status = std::stoi(result.out.substr(newline + 1));
  answer.body = nlohmann::json::parse(result.out.substr(0, newline), nullptr, false);
  return answer;
}

std::string gateway_url(int port, const std::string& path) {
  return "https://localhost:" + std::to_string(port) + path;
}

std::string first_admin_password(const std::string& gateway_log) {
  std::smatch match;
  if (!std::regex_search(gateway_log, match, std::regex("password\\s+([a-z2-7]{5}(-[a-z2-7]{5}){3})"))) return "";
  return match[1];
}

HttpsAnswer device_request(const Installation& install, int port, const std::optional<DeviceFiles>& identity,
                           const std::string& method, const std::string& path, const std::string& body,
                           const std::string& content_type) {
  std::vector<std::string> args{"-X", method, "-H", "Content-Type: " + content_type, "--data-binary", body};
  if (identity) args.insert(args.end(), {"--cert", identity->cert.string(), "--key", identity->key.string()});
  return curl_json(install.pki_dir() / "ca.crt", std::move(args), gateway_url(port, path));
}

Browser::Browser(const Installation& install, int port, std::filesystem::path jar)
    : ca_(install.pki_dir() / "ca.crt"), port_(port), jar_(std::move(jar)) {}

HttpsAnswer Browser::request(const std::string& method, const std::string& path,
                             const std::optional<nlohmann::json>& body, bool with_csrf,
                             const std::vector<std::string>& extra) {
  std::vector<std::string> args{"-b", jar_.string(), "-c", jar_.string(), "-X", method};
  if (body) args.insert(args.end(), {"-H", "Content-Type: application/json", "--data-binary", body->dump()});
  if (with_csrf && !csrf.empty()) args.insert(args.end(), {"-H", "X-CSRF-Token: " + csrf});
  args.insert(args.end(), extra.begin(), extra.end());
  return curl_json(ca_, std::move(args), url(path), std::filesystem::path(jar_.string() + ".headers"));
}

HttpsAnswer Browser::sign_in(const std::string& user, const std::string& password, const std::string& code) {
  nlohmann::json body = {{"user", user}, {"password", password}};
  if (!code.empty()) body["code"] = code;
  auto answer = request("POST", "/api/v1/session", body);
  if (answer.status == 200) csrf = answer.body.value("csrf_token", "");
  return answer;
}

}  // namespace kelvin::testing
