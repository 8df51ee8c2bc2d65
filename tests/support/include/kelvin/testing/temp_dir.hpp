#pragma once
// A fresh directory under $TMPDIR (mode 0700), removed with everything in it on destruction.

#include <filesystem>

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

}  // namespace kelvin::testing
