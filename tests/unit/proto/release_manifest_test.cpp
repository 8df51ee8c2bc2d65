#include "kelvin/proto/release_manifest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kelvin::proto {
namespace {

ReleaseManifest sample_manifest() {
  ReleaseManifest manifest;
  manifest.product = "kelvin-agent-linux-x86_64";
  manifest.version = FirmwareVersion{1, 10, 0};
  manifest.security_version = 3;
  manifest.size = 2'097'152;
  manifest.sha256 = std::string(63, 'a') + "0";
  manifest.created = "2026-12-04T21:00:00Z";
  manifest.notes = "Fixes \"stuck\" sensor\nand ünïcode";
  return manifest;
}

void expect_equal(const ReleaseManifest& a, const ReleaseManifest& b) {
  EXPECT_EQ(a.product, b.product);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.security_version, b.security_version);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.notes, b.notes);
}

// The decoder's error for `payload`, "" when it was accepted.
std::string refusal(std::string_view payload) {
  auto decoded = decode_release_manifest(payload);
  return decoded.ok() ? std::string() : decoded.error().message;
}

TEST(FirmwareVersionTest, ParsesAndComparesNumerically) {
  auto a = parse_firmware_version("1.9.0");
  auto b = parse_firmware_version("1.10.0");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(*a, *b);
  EXPECT_EQ(b->to_string(), "1.10.0");
  EXPECT_EQ(parse_firmware_version("0.0.0")->to_string(), "0.0.0");
  EXPECT_EQ(parse_firmware_version("999999999.0.1")->major, 999'999'999u);
  for (const char* bad : {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-rc1", "1.2.3+b", "v1.2.3",
                          " 1.2.3", "1.2.3 ", "1..3", "1000000000.0.0", "-1.2.3", "1.2.x"}) {
    EXPECT_FALSE(parse_firmware_version(bad).ok()) << bad;
  }
}

TEST(ReleaseManifestTest, RoundTrips) {
  const ReleaseManifest manifest = sample_manifest();
  const std::string encoded = encode_release_manifest(manifest);
  EXPECT_EQ(encoded.substr(0, 48), R"({"product":"kelvin-agent-linux-x86_64","version")");
  auto decoded = decode_release_manifest(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_equal(*decoded, manifest);
}

TEST(ReleaseManifestTest, AcceptsMembersInAnyOrderWithWhitespaceAndEscapes) {
  auto decoded = decode_release_manifest(
      " {\n \"notes\" : \"caf\\u00e9 \\ud83d\\ude00\\n\", \"sha256\":\"" + std::string(64, 'f') +
      "\", \"size\": 1, \"created\":\"2026-01-31T23:59:59Z\", \"security_version\":0, \"version\":\"2.0.1\","
      " \"product\":\"p\"\t}\r\n");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->notes, "caf\xc3\xa9 \xf0\x9f\x98\x80\n");
  EXPECT_EQ(decoded->version, (FirmwareVersion{2, 0, 1}));
  EXPECT_EQ(decoded->size, 1u);
}

TEST(ReleaseManifestTest, RefusesMissingUnknownAndRepeatedMembers) {
  const std::string good = encode_release_manifest(sample_manifest());
  EXPECT_EQ(refusal(good), "");
  std::string without_notes = good;
  without_notes.erase(without_notes.find(R"(,"notes")"), std::string::npos);
  without_notes += '}';
  EXPECT_NE(refusal(without_notes).find("\"notes\" is missing"), std::string::npos) << refusal(without_notes);

  std::string extra = good;
  extra.insert(1, R"("url":"https://elsewhere",)");
  EXPECT_NE(refusal(extra).find("unknown member \"url\""), std::string::npos) << refusal(extra);

  // A second "size" after the first: a lenient parser would let the later one win.
  std::string twice = good;
  twice.insert(twice.size() - 1, R"(,"size":1)");
  EXPECT_NE(refusal(twice).find("given twice"), std::string::npos) << refusal(twice);
}

TEST(ReleaseManifestTest, RefusesFieldsOutsideTheirRules) {
  auto with = [](auto change) {
    ReleaseManifest manifest = sample_manifest();
    change(manifest);
    return validate_release_manifest(manifest).ok();
  };
  EXPECT_TRUE(with([](ReleaseManifest&) {}));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.product = ""; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.product = "Kelvin"; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.product = "-agent"; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.product = "a/../b"; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.product = std::string(65, 'a'); }));
  EXPECT_TRUE(with([](ReleaseManifest& m) { m.product = std::string(64, 'a'); }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.size = 0; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.size = kMaxImageBytes + 1; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.sha256 = std::string(64, 'A'); }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.sha256 = std::string(63, 'a'); }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.created = "2026-12-04 21:00:00Z"; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.created = "2026-13-04T21:00:00Z"; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.created = "2026-12-04T21:00:00+01:00"; }));
  EXPECT_FALSE(with([](ReleaseManifest& m) { m.notes = std::string(kMaxReleaseNotesBytes + 1, 'n'); }));
}

TEST(ReleaseManifestTest, RefusesMalformedJsonAndWrongTypes) {
  const std::string good = encode_release_manifest(sample_manifest());
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  for (const std::string& bad : {
           std::string(),
           std::string("[]"),
           std::string("null"),
           good + "x",
           good + "{}",
           good.substr(0, good.size() - 1),
           replaced(R"("security_version":3)", R"("security_version":"3")"),
           replaced(R"("security_version":3)", R"("security_version":-3)"),
           replaced(R"("security_version":3)", R"("security_version":3.0)"),
           replaced(R"("security_version":3)", R"("security_version":4294967296)"),
           replaced(R"("security_version":3)", R"("security_version":03)"),
           replaced(R"("size":2097152)", R"("size":2e6)"),
           replaced(R"("size":2097152)", R"("size":18446744073709551616)"),
           replaced(R"("version":"1.10.0")", R"("version":1.10)"),
           replaced(R"("version":"1.10.0")", R"("version":"1.10.0-rc1")"),
           replaced(R"("notes":")", "\"notes\":\"\x01"),
           replaced(R"("notes":")", "\"notes\":\"\xff"),
           replaced(R"("notes":")", R"("notes":"\ud800)"),
           replaced(R"("notes":")", R"("notes":"\x)"),
           replaced(R"("product")", R"('product')"),
           replaced(R"(,"size")", R"(,,"size")"),
           good.substr(0, good.size() - 1) + ",}",
           good + std::string(1, '\0'),
           "{" + std::string(kMaxManifestBytes, ' ') + "}",
       }) {
    EXPECT_NE(refusal(bad), "") << bad;
  }
}

}  // namespace
}  // namespace kelvin::proto
