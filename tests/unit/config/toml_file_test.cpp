#include "kelvin/config/toml_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::config {
namespace {

using kelvin::testing::TempDir;

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(TomlFile, LoadsAFile) {
  TempDir dir;
  write(dir / "a.toml", "name = \"x\"\n[section]\nport = 8883\n");
  auto table = load_toml_file(dir / "a.toml");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ((*table)["name"].value<std::string>(), "x");
  EXPECT_EQ((*table)["section"]["port"].value<std::int64_t>(), 8883);
}

TEST(TomlFile, MissingFileIsNotFoundAndNamesThePath) {
  TempDir dir;
  auto table = load_toml_file(dir / "absent.toml");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().code, Errc::not_found);
  EXPECT_NE(table.error().message.find("absent.toml"), std::string::npos) << table.error().message;
}

TEST(TomlFile, SyntaxErrorNamesFileLineAndColumn) {
  TempDir dir;
  write(dir / "bad.toml", "a = 1\nb = 2\nc = = 3\n");
  auto table = load_toml_file(dir / "bad.toml");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().code, Errc::invalid_argument);
  const std::string prefix = (dir / "bad.toml").string() + ":3:";
  EXPECT_EQ(table.error().message.rfind(prefix, 0), 0u) << table.error().message;
  EXPECT_EQ(table.error().message.find('\n'), std::string::npos) << "one line: " << table.error().message;
}

TEST(TomlFile, DuplicateKeyIsASyntaxError) {
  auto table = parse_toml("port = 1\nport = 2\n", "dup.toml");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().message.rfind("dup.toml:2:", 0), 0u) << table.error().message;
}

TEST(TomlFile, RefusesAnOversizedFile) {
  TempDir dir;
  write(dir / "huge.toml", "# " + std::string(kMaxConfigBytes, 'x') + "\n");
  auto table = load_toml_file(dir / "huge.toml");
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.error().message.find("larger than"), std::string::npos) << table.error().message;
}

}  // namespace
}  // namespace kelvin::config
