#pragma once
// A fresh directory under $TMPDIR (mode 0700), removed with everything in it on destruction, and
// reading what programs under test wrote into it.

#include <filesystem>
#include <string>

namespace kelvin::testing {

class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

// The text of a file, "" if it does not exist.
std::string read_text(const std::filesystem::path& file);

}  // namespace kelvin::testing
