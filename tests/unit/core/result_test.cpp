#include "kelvin/core/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <type_traits>

namespace kelvin {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return make_error(Errc::invalid_argument, std::string("not a digit: ") + c);
  return c - '0';
}

Result<void> require_positive(int n) {
  if (n <= 0) return make_error(Errc::conflict, "must be positive");
  return {};
}

TEST(Result, HoldsValueOnSuccess) {
  Result<int> r = parse_digit('7');
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 7);
  EXPECT_EQ(*r, 7);
}

TEST(Result, HoldsErrorOnFailure) {
  Result<int> r = parse_digit('x');
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(r.error().message, "not a digit: x");
}

TEST(Result, ValueIsMutableAndArrowReachesMembers) {
  Result<std::string> r = std::string("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  r.value() += "def";
  *r += "g";
  EXPECT_EQ(r.value(), "abcdefg");
}

TEST(Result, MoveOnlyValueCanBeMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> owned = std::move(r).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 42);
}

TEST(Result, ErrorCanBeMovedOutOfAFailedResult) {
  Result<int> r = make_error(Errc::io, "disk on fire");
  Error e = std::move(r).error();
  EXPECT_EQ(e.code, Errc::io);
  EXPECT_EQ(e.message, "disk on fire");
}

TEST(Result, BoolConversionIsExplicit) {
  // An accidental `int x = result;` or `bool b = result;` must not compile.
  static_assert(!std::is_convertible_v<Result<int>, bool>);
  static_assert(std::is_constructible_v<bool, Result<int>>);
  static_assert(!std::is_convertible_v<Result<void>, bool>);
  SUCCEED();
}

TEST(ResultVoid, DefaultConstructedIsSuccess) {
  Result<void> r;
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(require_positive(3).ok());
}

TEST(ResultVoid, CarriesError) {
  Result<void> r = require_positive(0);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(r.error().message, "must be positive");
  Error moved = std::move(r).error();
  EXPECT_EQ(moved.message, "must be positive");
}

TEST(Errc, EveryCodeHasADistinctDescription) {
  const Errc all[] = {Errc::invalid_argument, Errc::not_found, Errc::already_exists, Errc::permission_denied, Errc::io,
                      Errc::crypto,           Errc::corrupt,   Errc::conflict,       Errc::bad_credentials};
  std::set<std::string> seen;
  for (Errc code : all) {
    std::string text = to_string(code);
    EXPECT_FALSE(text.empty());
    EXPECT_NE(text, "unknown error") << static_cast<int>(code);
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), std::size(all));
}

}  // namespace
}  // namespace kelvin
