#include "kelvin/http/file_response.hpp"

#include <gtest/gtest.h>

namespace kelvin::http {
namespace {

using Kind = RangeRequest::Kind;

TEST(ParseRange, ReadsTheThreeFormsOfOneByteRange) {
  auto r = parse_range("bytes=0-99", 1000);
  EXPECT_EQ(r.kind, Kind::range);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 100u);
  r = parse_range("bytes=900-", 1000);
  EXPECT_EQ(r.kind, Kind::range);
  EXPECT_EQ(r.first, 900u);
  EXPECT_EQ(r.length, 100u);
  r = parse_range("bytes=-10", 1000);
  EXPECT_EQ(r.kind, Kind::range);
  EXPECT_EQ(r.first, 990u);
  EXPECT_EQ(r.length, 10u);
  r = parse_range("bytes=990-5000", 1000);  // clipped to the end
  EXPECT_EQ(r.kind, Kind::range);
  EXPECT_EQ(r.length, 10u);
  r = parse_range("bytes=-5000", 1000);  // a suffix longer than the file: all of it
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 1000u);
}

TEST(ParseRange, IgnoresWhatItNeedNotServeAndRefusesRangesPastTheEnd) {
  for (const char* ignored : {"", "bytes", "bytes=", "items=0-1", "bytes=5-1", "bytes=a-1", "bytes=0-1,5-6", "bytes=-",
                              "bytes= 0-1", "bytes=0-1 ", "bytes=+1-2", "bytes=18446744073709551616-"}) {
    EXPECT_EQ(parse_range(std::string_view(ignored), 1000).kind, Kind::whole) << ignored;
  }
  EXPECT_EQ(parse_range(std::nullopt, 1000).kind, Kind::whole);
  EXPECT_EQ(parse_range("bytes=1000-", 1000).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=1000-2000", 1000).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 1000).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-", 0).kind, Kind::unsatisfiable);
}

TEST(FileResponse, AnswersTheRangeWithItsHeaders) {
  auto whole = file_response("/f", 1000, std::nullopt, "application/octet-stream", "\"abc\"");
  EXPECT_EQ(whole.status, 200);
  ASSERT_TRUE(whole.file.has_value());
  EXPECT_EQ(whole.file->length, 1000u);
  auto part = file_response("/f", 1000, "bytes=10-19", "application/octet-stream", "");
  EXPECT_EQ(part.status, 206);
  ASSERT_TRUE(part.file.has_value());
  EXPECT_EQ(part.file->offset, 10u);
  EXPECT_EQ(part.file->length, 10u);
  bool content_range = false;
  for (const auto& [name, value] : part.headers)
    content_range |= name == "Content-Range" && value == "bytes 10-19/1000";
  EXPECT_TRUE(content_range);
  auto past = file_response("/f", 1000, "bytes=1000-", "application/octet-stream", "");
  EXPECT_EQ(past.status, 416);
  EXPECT_FALSE(past.file.has_value());
}

}  // namespace
}  // namespace kelvin::http
