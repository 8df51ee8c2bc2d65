#pragma once
// Builds fake sysfs trees in a temp dir for the Linux sensor sources (which read "<root>/sys/...").

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::linux_port::testing {

class FakeSysfs {
 public:
  const std::filesystem::path& root() const { return dir_.path(); }

  // Writes `content` to <root>/<absolute target path>, creating directories.
  void write(const std::filesystem::path& target, std::string_view content) const {
    const std::filesystem::path path = root() / target.relative_path();
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  }
  void make_dir(const std::filesystem::path& target) const {
    std::filesystem::create_directories(root() / target.relative_path());
  }

 private:
  kelvin::testing::TempDir dir_;
};

// A w1_slave text for 9 scratchpad bytes, as the kernel's w1_therm driver writes it.
inline std::string w1_slave_text(const std::string& bytes_hex, const std::string& crc_hex, bool ok,
                                 const std::string& t_milli) {
  return bytes_hex + " : crc=" + crc_hex + (ok ? " YES\n" : " NO\n") + bytes_hex + " t=" + t_milli + "\n";
}

}  // namespace kelvin::linux_port::testing
