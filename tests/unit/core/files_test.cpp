#include "kelvin/core/files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Creates `path` with `content` and then sets exactly `mode` (independent of the code under test).
void put_file(const fs::path& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << std::strerror(errno);
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  return names;
}

// Sets the process umask for the lifetime of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

// ---- copy_file_durably -------------------------------------------------------------------------

TEST(CopyFileDurably, CopiesEveryByteWithExactModeAndNeverOverwrites) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 200'000; ++i) content += static_cast<char>(i % 253);
  put_file(dir / "from", content, 0600);
  ScopedUmask umask(077);
  ASSERT_TRUE(kelvin::files::copy_file_durably(dir / "from", dir / "to", 0644).ok());
  EXPECT_EQ(slurp(dir / "to"), content);
  EXPECT_EQ(mode_of(dir / "to"), 0644u);

  put_file(dir / "other", "other", 0600);
  auto again = kelvin::files::copy_file_durably(dir / "other", dir / "to", 0644);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, kelvin::Errc::already_exists);
  EXPECT_EQ(slurp(dir / "to"), content);

  fs::create_symlink(dir / "planted-target", dir / "link");
  EXPECT_FALSE(kelvin::files::copy_file_durably(dir / "other", dir / "link", 0644).ok());
  EXPECT_FALSE(fs::exists(dir / "planted-target"));
  EXPECT_EQ(kelvin::files::copy_file_durably(dir / "missing", dir / "new", 0644).error().code, kelvin::Errc::not_found);
  EXPECT_FALSE(fs::exists(dir / "new"));
}

TEST(CopyFileDurably, StopsAtItsLimitSoAnEndlessSourceCannotFillTheDisk) {
  TempDir dir;
  put_file(dir / "from", std::string(100, 'x'), 0600);
  ASSERT_TRUE(kelvin::files::copy_file_durably(dir / "from", dir / "exact", 0600, 100).ok());
  auto longer = kelvin::files::copy_file_durably(dir / "from", dir / "short", 0600, 99);
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(longer.error().code, kelvin::Errc::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "short")) << "a refused copy leaves nothing";
  auto endless = kelvin::files::copy_file_durably("/dev/zero", dir / "zeros", 0600, 1 << 20);
  ASSERT_FALSE(endless.ok());
  EXPECT_FALSE(fs::exists(dir / "zeros"));
}

// ---- write_file_atomic -------------------------------------------------------------------------

TEST(WriteFileAtomic, CreatesPrivateFileWithExactMode) {
  TempDir tmp;
  const fs::path path = tmp / "secret.key";
  auto r = files::write_file_atomic(path, "key material", files::kPrivateFileMode);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(path), "key material");
  EXPECT_EQ(mode_of(path), 0600u);
}

TEST(WriteFileAtomic, CreatesPublicFileWithExactMode) {
  TempDir tmp;
  const fs::path path = tmp / "ca.crt";
  auto r = files::write_file_atomic(path, "certificate", files::kPublicFileMode);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(path), "certificate");
  EXPECT_EQ(mode_of(path), 0644u);
}

TEST(WriteFileAtomic, ModeIsExactEvenUnderARestrictiveUmask) {
  TempDir tmp;
  const fs::path path = tmp / "public.pem";
  {
    ScopedUmask mask(077);
    auto r = files::write_file_atomic(path, "x", 0644);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  EXPECT_EQ(mode_of(path), 0644u);
}

TEST(WriteFileAtomic, ReplacesContentAndMode) {
  TempDir tmp;
  const fs::path path = tmp / "file";
  put_file(path, "old content that is longer than the new one", 0644);
  auto r = files::write_file_atomic(path, "new", files::kPrivateFileMode);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(path), "new");
  EXPECT_EQ(mode_of(path), 0600u);

  auto empty = files::write_file_atomic(path, "", files::kPrivateFileMode);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST(WriteFileAtomic, ReplacesByRenameSoOpenReadersKeepOldContent) {
  TempDir tmp;
  const fs::path path = tmp / "file";
  put_file(path, "old", 0644);
  std::ifstream reader(path, std::ios::binary);  // opened before the replacement
  auto r = files::write_file_atomic(path, "new", 0644);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::string seen;
  reader >> seen;
  EXPECT_EQ(seen, "old");  // in-place rewriting would have shown "new"
  EXPECT_EQ(slurp(path), "new");
}

TEST(WriteFileAtomic, LeavesNoTemporaryFilesBehind) {
  TempDir tmp;
  for (int i = 0; i < 3; ++i) {
    auto r = files::write_file_atomic(tmp / "a.txt", "round " + std::to_string(i), 0644);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto r = files::write_file_atomic(tmp / "b.key", "k", 0600);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto names = entries(tmp.path());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "b.key"}));
}

TEST(WriteFileAtomic, FailsInMissingDirectoryWithoutLeftovers) {
  TempDir tmp;
  auto r = files::write_file_atomic(tmp / "missing" / "file", "x", 0600);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_NE(r.error().message.find("missing"), std::string::npos) << r.error().message;
  EXPECT_TRUE(entries(tmp.path()).empty());
}

TEST(WriteFileAtomic, FailureWhenTargetIsADirectoryRemovesTemporaryFile) {
  TempDir tmp;
  fs::create_directory(tmp / "target");
  fs::create_directory(tmp / "target" / "inner");  // a non-empty directory cannot be renamed over
  auto r = files::write_file_atomic(tmp / "target", "x", 0600);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(entries(tmp.path()), std::vector<std::string>{"target"});
  EXPECT_TRUE(fs::is_directory(tmp / "target" / "inner"));
}

// ---- ensure_private_dir ------------------------------------------------------------------------

TEST(EnsurePrivateDir, CreatesNestedDirectoriesWithMode0700) {
  TempDir tmp;
  const fs::path dir = tmp / "a" / "b" / "c";
  auto r = files::ensure_private_dir(dir);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(mode_of(tmp / "a"), 0700u);
  EXPECT_EQ(mode_of(tmp / "a" / "b"), 0700u);
  EXPECT_EQ(mode_of(dir), 0700u);
}

TEST(EnsurePrivateDir, ModeIs0700EvenWithPermissiveUmask) {
  TempDir tmp;
  {
    ScopedUmask mask(0);
    auto r = files::ensure_private_dir(tmp / "d");
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  EXPECT_EQ(mode_of(tmp / "d"), 0700u);
}

TEST(EnsurePrivateDir, TightensExistingDirectory) {
  TempDir tmp;
  const fs::path dir = tmp / "loose";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  put_file(dir / "keep", "content", 0644);
  auto r = files::ensure_private_dir(dir);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(slurp(dir / "keep"), "content");  // contents untouched
}

TEST(EnsurePrivateDir, IsIdempotent) {
  TempDir tmp;
  ASSERT_TRUE(files::ensure_private_dir(tmp / "d").ok());
  auto again = files::ensure_private_dir(tmp / "d");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(mode_of(tmp / "d"), 0700u);
}

TEST(EnsurePrivateDir, FailsClearlyWhenPathIsARegularFile) {
  TempDir tmp;
  const fs::path path = tmp / "file";
  put_file(path, "not a dir", 0644);
  auto r = files::ensure_private_dir(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::already_exists);
  EXPECT_NE(r.error().message.find("not a directory"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
  EXPECT_EQ(mode_of(path), 0644u);  // the file is left alone
  EXPECT_EQ(slurp(path), "not a dir");
}

TEST(EnsurePrivateDir, FailsWhenAParentIsARegularFile) {
  TempDir tmp;
  put_file(tmp / "file", "x", 0644);
  auto r = files::ensure_private_dir(tmp / "file" / "sub");
  EXPECT_FALSE(r.ok());
}

// ---- append_durably / truncate_durably ---------------------------------------------------------

TEST(AppendDurably, CreatesWithModeAndAppends) {
  TempDir tmp;
  const fs::path path = tmp / "journal";
  auto first = files::append_durably(path, "one\n", files::kPrivateFileMode);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(mode_of(path), 0600u);
  auto second = files::append_durably(path, "two\n", files::kPrivateFileMode);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(slurp(path), "one\ntwo\n");
}

TEST(AppendDurably, DoesNotChangeModeOfExistingFile) {
  TempDir tmp;
  const fs::path path = tmp / "log";
  put_file(path, "start;", 0644);
  auto r = files::append_durably(path, "more", files::kPrivateFileMode);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(path), "start;more");
  EXPECT_EQ(mode_of(path), 0644u);
}

TEST(AppendDurably, AppendsBinaryContentVerbatim) {
  TempDir tmp;
  const std::string data("a\0b\n\xff", 5);
  auto r = files::append_durably(tmp / "bin", data, 0600);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(tmp / "bin"), data);
}

TEST(AppendDurably, FailsInMissingDirectory) {
  TempDir tmp;
  auto r = files::append_durably(tmp / "nope" / "log", "x", 0600);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
}

TEST(TruncateDurably, ShrinksFile) {
  TempDir tmp;
  const fs::path path = tmp / "log";
  put_file(path, "hello world", 0600);
  auto r = files::truncate_durably(path, 5);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(slurp(path), "hello");
  auto to_zero = files::truncate_durably(path, 0);
  ASSERT_TRUE(to_zero.ok()) << to_zero.error().message;
  EXPECT_EQ(fs::file_size(path), 0u);
}

TEST(TruncateDurably, MissingFileIsNotFound) {
  TempDir tmp;
  auto r = files::truncate_durably(tmp / "absent", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_FALSE(fs::exists(tmp / "absent"));  // truncation must not create the file
}

// ---- read_file ---------------------------------------------------------------------------------

TEST(ReadFile, ReadsWholeFileIncludingNulBytes) {
  TempDir tmp;
  std::string data(20000, 'x');
  data[7] = '\0';
  data.back() = '\n';
  put_file(tmp / "f", data, 0644);
  auto r = files::read_file(tmp / "f");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, data);
}

TEST(ReadFile, EnforcesSizeLimit) {
  TempDir tmp;
  put_file(tmp / "f", std::string(100, 'a'), 0644);
  auto at_limit = files::read_file(tmp / "f", 100);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->size(), 100u);

  auto over = files::read_file(tmp / "f", 99);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::io);
  EXPECT_NE(over.error().message.find("larger than 99 bytes"), std::string::npos) << over.error().message;
}

TEST(ReadFile, MissingFileIsNotFound) {
  TempDir tmp;
  auto r = files::read_file(tmp / "absent");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_NE(r.error().message.find("absent"), std::string::npos) << r.error().message;
}

TEST(ReadFile, RefusesDirectory) {
  TempDir tmp;
  auto r = files::read_file(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
}

// ---- read_secret_file / permissions_of ---------------------------------------------------------

TEST(ReadSecretFile, RefusesGroupOrWorldReadableFile) {
  TempDir tmp;
  for (mode_t mode : {mode_t{0640}, mode_t{0644}, mode_t{0604}, mode_t{0660}, mode_t{0602}}) {
    const fs::path path = tmp / "passphrase";
    put_file(path, "hunter2\n", mode);
    auto r = files::read_secret_file(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.error().code, Errc::permission_denied);
    EXPECT_NE(r.error().message.find("chmod 600"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
  }
}

TEST(ReadSecretFile, AcceptsOwnerOnlyFileAndStripsOneTrailingNewline) {
  TempDir tmp;
  const fs::path path = tmp / "passphrase";
  put_file(path, "hunter2\n", 0600);
  auto r = files::read_secret_file(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "hunter2");

  put_file(path, "hunter2\n\n", 0600);
  auto two = files::read_secret_file(path);
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(*two, "hunter2\n");  // only one newline is removed

  put_file(path, "no newline", 0400);
  auto none = files::read_secret_file(path);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(*none, "no newline");

  put_file(path, " spaced secret \r\n", 0600);
  auto crlf = files::read_secret_file(path);
  ASSERT_TRUE(crlf.ok()) << crlf.error().message;
  EXPECT_EQ(*crlf, " spaced secret ");

  put_file(path, "ends in cr\r", 0600);  // a carriage return without a newline is content
  auto cr = files::read_secret_file(path);
  ASSERT_TRUE(cr.ok()) << cr.error().message;
  EXPECT_EQ(*cr, "ends in cr\r");
}

TEST(ReadSecretFile, MissingFileIsNotFound) {
  TempDir tmp;
  auto r = files::read_secret_file(tmp / "absent");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
}

TEST(PermissionsOf, ReportsPermissionBits) {
  TempDir tmp;
  put_file(tmp / "f", "", 0640);
  auto r = files::permissions_of(tmp / "f");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, 0640u);
  ASSERT_EQ(::chmod((tmp / "f").c_str(), 04755), 0);
  auto with_setuid = files::permissions_of(tmp / "f");
  ASSERT_TRUE(with_setuid.ok());
  EXPECT_EQ(*with_setuid, 04755u);
}

TEST(PermissionsOf, DoesNotFollowSymlinks) {
  TempDir tmp;
  put_file(tmp / "real", "", 0600);
  fs::create_symlink(tmp / "real", tmp / "link");
  auto r = files::permissions_of(tmp / "link");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, mode_of(tmp / "link"));
  EXPECT_NE(*r, 0600u);
}

TEST(PermissionsOf, MissingPathIsNotFound) {
  TempDir tmp;
  auto r = files::permissions_of(tmp / "absent");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
}

// ---- error_from_errno --------------------------------------------------------------------------

TEST(ErrorFromErrno, MapsErrnoToCodeAndDescribesPath) {
  struct Case {
    int err;
    Errc code;
  };
  for (const Case& c : {Case{ENOENT, Errc::not_found}, Case{ENOTDIR, Errc::not_found},
                        Case{EACCES, Errc::permission_denied}, Case{EPERM, Errc::permission_denied},
                        Case{EEXIST, Errc::already_exists}, Case{EIO, Errc::io}, Case{ENOSPC, Errc::io}}) {
    errno = c.err;
    Error e = files::error_from_errno("cannot open", "/some/path");
    EXPECT_EQ(e.code, c.code) << c.err;
    EXPECT_EQ(e.message, std::string("cannot open /some/path: ") + std::strerror(c.err));
  }
}

}  // namespace
}  // namespace kelvin
