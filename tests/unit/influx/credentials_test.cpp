// load_credentials: a private file (mode, owner, symlinks, line grammar) or the environment (both
// variables or neither), with the checks shared by both, and never the password in a message.

#include "kelvin/influx/credentials.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <string>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::influx {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPassword = "S3cret-pass-phrase";

// An environment for the injected getenv; names not in it are unset.
class FakeEnvironment {
 public:
  explicit FakeEnvironment(std::map<std::string, std::string> variables) : variables_(std::move(variables)) {}
  std::function<const char*(const char*)> getenv() const {
    return [this](const char* name) -> const char* {
      auto found = variables_.find(name);
      return found == variables_.end() ? nullptr : found->second.c_str();
    };
  }

 private:
  std::map<std::string, std::string> variables_;
};

class CredentialsFile : public ::testing::Test {
 protected:
  fs::path write(const std::string& content, fs::perms mode = fs::perms::owner_read | fs::perms::owner_write,
                 const std::string& name = "influx.credentials") {
    const fs::path file = dir_ / name;
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    fs::permissions(file, mode);
    return file;
  }

  // An error that must come with `code` and must not give the password away.
  static void expect_error(const Result<std::optional<Credentials>>& loaded, Errc code,
                           const std::string& password = kPassword) {
    ASSERT_FALSE(loaded) << "loaded " << (loaded.value() ? loaded.value()->username : "<no credentials>");
    EXPECT_EQ(loaded.error().code, code) << loaded.error().message;
    EXPECT_THAT(loaded.error().message, Not(HasSubstr(password)));
  }

  kelvin::testing::TempDir dir_;
};

constexpr fs::perms kOwnerReadWrite = fs::perms::owner_read | fs::perms::owner_write;

TEST_F(CredentialsFile, ReadsUsernameAndPasswordFromAPrivateFile) {
  auto loaded = load_credentials(write(std::string("username=kelvin-writer\npassword=") + kPassword + "\n"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "kelvin-writer");
  EXPECT_EQ((*loaded)->password, kPassword);
}

TEST_F(CredentialsFile, AcceptsReadOnlyForTheOwnerAndAnyOrderWithoutATrailingNewline) {
  auto loaded = load_credentials(write(std::string("password=") + kPassword + "\nusername=u", fs::perms::owner_read));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "u");
  EXPECT_EQ((*loaded)->password, kPassword);
}

TEST_F(CredentialsFile, RefusesGroupOrOtherPermissionBitsWithAChmodHint) {
  using fs::perms;
  for (perms extra : {perms::group_read, perms::group_write, perms::group_exec, perms::others_read, perms::others_write,
                      perms::others_exec, perms::group_read | perms::others_read}) {
    SCOPED_TRACE(static_cast<int>(extra));
    const fs::path file = write(std::string("username=u\npassword=") + kPassword + "\n", kOwnerReadWrite | extra);
    auto loaded = load_credentials(file);
    expect_error(loaded, Errc::permission_denied);
    if (!loaded) {
      EXPECT_THAT(loaded.error().message, HasSubstr("chmod 600 " + file.string()));
    }
  }
}

TEST_F(CredentialsFile, AMissingFileIsNotFoundAndTheEnvironmentIsNotConsulted) {
  FakeEnvironment env({{kUsernameEnv, "env-user"}, {kPasswordEnv, "env-password"}});
  auto loaded = load_credentials(dir_ / "absent.credentials", env.getenv());
  expect_error(loaded, Errc::not_found, "env-password");
}

TEST_F(CredentialsFile, AFileWinsOverTheEnvironment) {
  FakeEnvironment env({{kUsernameEnv, "env-user"}, {kPasswordEnv, "env-password"}});
  auto loaded = load_credentials(write(std::string("username=file-user\npassword=") + kPassword), env.getenv());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "file-user");
  EXPECT_EQ((*loaded)->password, kPassword);
}

TEST_F(CredentialsFile, FollowsASymlinkAndChecksTheTargetsMode) {
  const fs::path target = write(std::string("username=u\npassword=") + kPassword + "\n", kOwnerReadWrite, "target");
  const fs::path link = dir_ / "link.credentials";
  fs::create_symlink(target, link);  // the link itself is lrwxrwxrwx: its own mode means nothing
  auto loaded = load_credentials(link);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->password, kPassword);

  fs::permissions(target, kOwnerReadWrite | fs::perms::others_read);
  expect_error(load_credentials(link), Errc::permission_denied);

  fs::remove(target);
  expect_error(load_credentials(link), Errc::not_found);  // a dangling link
}

TEST_F(CredentialsFile, RefusesWhatIsNotARegularFile) {
  const fs::path directory = dir_ / "a-directory";
  fs::create_directory(directory);
  fs::permissions(directory, fs::perms::owner_all);
  expect_error(load_credentials(directory), Errc::permission_denied);

  // A FIFO must be refused, not block start-up waiting for a writer.
  const fs::path fifo = dir_ / "a-fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&fifo] { return load_credentials(fifo); });
  if (pending.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "load_credentials blocked on a FIFO";
    ::close(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK));  // a writer that comes and goes releases it
  }
  expect_error(pending.get(), Errc::permission_denied);
}

TEST_F(CredentialsFile, RefusesAFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
  const fs::path file = write(std::string("username=u\npassword=") + kPassword + "\n");
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);  // nobody
  auto loaded = load_credentials(file);
  expect_error(loaded, Errc::permission_denied);
  if (!loaded) {
    EXPECT_THAT(loaded.error().message, HasSubstr("chown"));
  }
}

TEST_F(CredentialsFile, IgnoresCommentsAndBlankLines) {
  auto loaded = load_credentials(write(std::string("# InfluxDB writer\n\n   \n\t\n   # indented comment\n"
                                                   "username=u\n#password=not-this-one\npassword=") +
                                       kPassword + "\n\n# end\n"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "u");
  EXPECT_EQ((*loaded)->password, kPassword);
}

TEST_F(CredentialsFile, KeepsValuesVerbatimWithSpacesAndEqualsSigns) {
  auto loaded = load_credentials(write("username=writer one\npassword= a b=c==  \n"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "writer one");
  EXPECT_EQ((*loaded)->password, " a b=c==  ");
}

TEST_F(CredentialsFile, ReadsCrlfLinesWithoutTheCarriageReturn) {
  auto loaded =
      load_credentials(write(std::string("# written on Windows\r\n\r\nusername=u\r\npassword=") + kPassword + "\r\n"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "u");
  EXPECT_EQ((*loaded)->password, kPassword);
}

TEST_F(CredentialsFile, RefusesAKeySetTwiceNamingTheLine) {
  auto twice_password = load_credentials(
      write(std::string("username=u\npassword=") + kPassword + "\npassword=other-" + kPassword + "\n"));
  expect_error(twice_password, Errc::invalid_argument);
  if (!twice_password) {
    EXPECT_THAT(twice_password.error().message, HasSubstr("line 3"));
  }

  auto twice_username = load_credentials(write(std::string("username=u\n\nusername=v\npassword=") + kPassword + "\n"));
  expect_error(twice_username, Errc::invalid_argument);
  if (!twice_username) {
    EXPECT_THAT(twice_username.error().message, HasSubstr("line 3"));
  }
}

TEST_F(CredentialsFile, RefusesAFileWithoutUsernameOrPassword) {
  expect_error(load_credentials(write(std::string("password=") + kPassword + "\n")), Errc::invalid_argument);
  expect_error(load_credentials(write("username=u\n")), Errc::invalid_argument);
  expect_error(load_credentials(write("")), Errc::invalid_argument);
  expect_error(load_credentials(write("# only a comment\n")), Errc::invalid_argument);
}

TEST_F(CredentialsFile, RefusesOtherLinesWithoutEchoingThem) {
  // A mistyped key or a password pasted on its own line: the message names the line, not its text.
  for (const std::string& line : {std::string("pasword=") + kPassword, std::string(kPassword),
                                  std::string("token=") + kPassword, std::string("Username=u")}) {
    SCOPED_TRACE(line);
    auto loaded = load_credentials(write("username=u\n# comment\n" + line + "\n"));
    expect_error(loaded, Errc::invalid_argument);
    if (!loaded) {
      EXPECT_THAT(loaded.error().message, HasSubstr("line 3"));
      EXPECT_THAT(loaded.error().message, Not(HasSubstr(line)));
    }
  }
}

TEST_F(CredentialsFile, RefusesEmptyValuesAndAColonInTheUsername) {
  expect_error(load_credentials(write(std::string("username=\npassword=") + kPassword + "\n")), Errc::invalid_argument);
  expect_error(load_credentials(write("username=u\npassword=\n")), Errc::invalid_argument);
  expect_error(load_credentials(write("username=u\npassword=\r\n")), Errc::invalid_argument);
  expect_error(load_credentials(write(std::string("username=team:writer\npassword=") + kPassword + "\n")),
               Errc::invalid_argument);
}

TEST_F(CredentialsFile, AColonInThePasswordIsFine) {
  auto loaded = load_credentials(write("username=u\npassword=a:b:c\n"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->password, "a:b:c");
}

TEST(CredentialsEnvironment, ReadsBothVariables) {
  FakeEnvironment env({{kUsernameEnv, "env-user"}, {kPasswordEnv, kPassword}});
  auto loaded = load_credentials(std::nullopt, env.getenv());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "env-user");
  EXPECT_EQ((*loaded)->password, kPassword);
}

TEST(CredentialsEnvironment, NeitherVariableMeansNoAuthentication) {
  for (const auto& variables : std::vector<std::map<std::string, std::string>>{
           {}, {{kUsernameEnv, ""}, {kPasswordEnv, ""}}, {{"KELVIN_INFLUX_TOKEN", "x"}}}) {
    FakeEnvironment env(variables);
    auto loaded = load_credentials(std::nullopt, env.getenv());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_FALSE(loaded->has_value());
  }
}

TEST(CredentialsEnvironment, OneVariableAloneIsAnError) {
  for (const auto& variables : std::vector<std::map<std::string, std::string>>{
           {{kPasswordEnv, kPassword}},
           {{kUsernameEnv, "env-user"}},
           {{kUsernameEnv, ""}, {kPasswordEnv, kPassword}},  // empty counts as unset
           {{kUsernameEnv, "env-user"}, {kPasswordEnv, ""}}}) {
    FakeEnvironment env(variables);
    auto loaded = load_credentials(std::nullopt, env.getenv());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, Errc::invalid_argument);
    EXPECT_THAT(loaded.error().message, HasSubstr(kUsernameEnv));
    EXPECT_THAT(loaded.error().message, HasSubstr(kPasswordEnv));
    EXPECT_THAT(loaded.error().message, Not(HasSubstr(kPassword)));
  }
}

TEST(CredentialsEnvironment, RefusesAColonInTheUsername) {
  FakeEnvironment env({{kUsernameEnv, "team:writer"}, {kPasswordEnv, kPassword}});
  auto loaded = load_credentials(std::nullopt, env.getenv());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, Errc::invalid_argument);
  EXPECT_THAT(loaded.error().message, Not(HasSubstr(kPassword)));
}

TEST(CredentialsEnvironment, ByDefaultReadsTheProcessEnvironment) {
  ASSERT_EQ(::setenv(kUsernameEnv, "real-env-user", 1), 0);
  ASSERT_EQ(::setenv(kPasswordEnv, kPassword, 1), 0);
  auto loaded = load_credentials(std::nullopt);
  ::unsetenv(kUsernameEnv);
  ::unsetenv(kPasswordEnv);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->username, "real-env-user");
  EXPECT_EQ((*loaded)->password, kPassword);
}

}  // namespace
}  // namespace kelvin::influx
