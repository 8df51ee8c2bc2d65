#include "kelvin/pki/certificate_index.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kelvin/core/files.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::pki {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;

constexpr std::time_t kNow = 1'800'000'000;
constexpr std::time_t kDay = 86400;

// The journal's documented line format: "<fields>\t<checksum>\n", where the checksum is the first
// 32 bits of SHA-256 over the fields as 8 hex digits, and the first line holds the header.
std::string checksum_of(const std::string& fields) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(fields.data(), fields.size(), digest, &length, EVP_sha256(), nullptr);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3]);
  return hex;
}
std::string line_of(const std::string& fields) {
  return fields + "\t" + checksum_of(fields) + "\n";
}
std::string wrong_checksum_line(const std::string& fields) {
  std::string sum = checksum_of(fields);
  sum[0] = sum[0] == '0' ? '1' : '0';
  return fields + "\t" + sum + "\n";
}
const std::string kHeaderLine = line_of("kelvin-pki-index\t1");

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void overwrite(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

void append_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << bytes;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', start)) {
    lines.push_back(text.substr(start, at - start));
    start = at + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

IssuedCertificate make_record(std::string serial, std::string common_name,
                              CertificateKind kind = CertificateKind::device, std::time_t not_before = kNow - 3600,
                              std::time_t not_after = kNow + 730 * kDay) {
  return IssuedCertificate{std::move(serial), kind, std::move(common_name), not_before, not_after, std::nullopt};
}

void expect_same_records(const std::vector<IssuedCertificate>& actual, const std::vector<IssuedCertificate>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(actual[i].serial, expected[i].serial);
    EXPECT_EQ(actual[i].kind, expected[i].kind);
    EXPECT_EQ(actual[i].common_name, expected[i].common_name);
    EXPECT_EQ(actual[i].not_before, expected[i].not_before);
    EXPECT_EQ(actual[i].not_after, expected[i].not_after);
    EXPECT_EQ(actual[i].revoked_at, expected[i].revoked_at);
  }
}

class CertificateIndexTest : public ::testing::Test {
 protected:
  // A journal holding a header and the records alpha, bravo, charlie (lines 1..4).
  CertificateIndex three_records() {
    auto index = CertificateIndex::create(path_);
    if (!index.ok()) throw std::runtime_error(index.error().message);
    for (const auto& record :
         {make_record("0A01", "alpha"), make_record("0B02", "bravo"), make_record("0C03", "charlie")}) {
      auto r = index->record_issue(record);
      EXPECT_TRUE(r.ok()) << r.error().message;
    }
    return std::move(index).value();
  }

  TempDir tmp_;
  fs::path path_ = tmp_ / "index.log";
};

// ---- creating and round trips ------------------------------------------------------------------

TEST_F(CertificateIndexTest, CreateStartsAnEmptyPrivateJournal) {
  auto index = CertificateIndex::create(path_);
  ASSERT_TRUE(index.ok()) << index.error().message;
  EXPECT_TRUE(index->certificates().empty());
  EXPECT_EQ(index->last_crl_number(), 0u);
  auto mode = files::permissions_of(path_);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);

  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded->certificates().empty());
  EXPECT_EQ(loaded->last_crl_number(), 0u);
}

TEST_F(CertificateIndexTest, CreateRefusesExistingFile) {
  ASSERT_TRUE(CertificateIndex::create(path_).ok());
  const std::string before = slurp(path_);
  auto again = CertificateIndex::create(path_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(CertificateIndexTest, RecordsSurviveReload) {
  auto index = CertificateIndex::create(path_);
  ASSERT_TRUE(index.ok()) << index.error().message;
  std::vector<IssuedCertificate> expected = {
      make_record("01AB", "kelvin CA", CertificateKind::ca, kNow - 3600, kNow + 3650 * kDay),
      make_record("02CD", "gateway.local", CertificateKind::server),
      make_record("03EF", "svc-gateway", CertificateKind::service),
      make_record("0456", "sensor-01", CertificateKind::device, kNow - 5 * kDay, kNow - kDay),
  };
  for (const auto& record : expected) {
    auto r = index->record_issue(record);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  ASSERT_TRUE(index->record_revocation("0456", kNow + 17).ok());
  expected[3].revoked_at = kNow + 17;
  ASSERT_TRUE(index->record_crl(1, kNow).ok());
  ASSERT_TRUE(index->record_crl(2, kNow + 17).ok());

  expect_same_records(index->certificates(), expected);
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_same_records(loaded->certificates(), expected);
  EXPECT_EQ(loaded->last_crl_number(), 2u);
  const IssuedCertificate* found = loaded->find_serial("02CD");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->common_name, "gateway.local");
  EXPECT_EQ(loaded->find_serial("02cd"), nullptr);  // serials are stored uppercase; lookup is exact
  EXPECT_EQ(loaded->find_serial("9999"), nullptr);
}

TEST_F(CertificateIndexTest, WrittenLinesFollowTheDocumentedFormat) {
  auto index = three_records();
  ASSERT_TRUE(index.record_revocation("0B02", kNow).ok());
  ASSERT_TRUE(index.record_crl(7, kNow).ok());
  const std::string text = slurp(path_);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0] + "\n", kHeaderLine);
  for (const auto& line : lines) {
    auto tab = line.rfind('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    EXPECT_EQ(line.substr(tab + 1), checksum_of(line.substr(0, tab))) << line;
  }
  EXPECT_EQ(lines[1].rfind("issue\t0A01\tdevice\talpha\t", 0), 0u) << lines[1];
  EXPECT_EQ(lines[4].rfind("revoke\t0B02\t" + std::to_string(kNow) + "\t", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("crl\t7\t" + std::to_string(kNow) + "\t", 0), 0u) << lines[5];
}

TEST_F(CertificateIndexTest, LoadsAHandWrittenJournal) {
  overwrite(path_, kHeaderLine + line_of("issue\tAA\tserver\thost.example\t100\t200") +
                       line_of("issue\tBB\tdevice\tpump-7\t150\t250") + line_of("revoke\tBB\t175") +
                       line_of("crl\t3\t175"));
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto pump = make_record("BB", "pump-7", CertificateKind::device, 150, 250);
  pump.revoked_at = 175;
  expect_same_records(loaded->certificates(),
                      {make_record("AA", "host.example", CertificateKind::server, 100, 200), pump});
  EXPECT_EQ(loaded->last_crl_number(), 3u);
}

TEST_F(CertificateIndexTest, FindCommonNameListsOldestFirst) {
  auto index = CertificateIndex::create(path_);
  ASSERT_TRUE(index.ok());
  ASSERT_TRUE(index->record_issue(make_record("01", "pump")).ok());
  ASSERT_TRUE(index->record_issue(make_record("02", "valve")).ok());
  ASSERT_TRUE(index->record_issue(make_record("03", "pump")).ok());
  auto found = index->find_common_name("pump");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0]->serial, "01");
  EXPECT_EQ(found[1]->serial, "03");
  EXPECT_TRUE(index->find_common_name("nobody").empty());
}

TEST_F(CertificateIndexTest, RecordIssueStoresNoRevocation) {
  auto index = CertificateIndex::create(path_);
  ASSERT_TRUE(index.ok());
  auto record = make_record("01", "pump");
  record.revoked_at = kNow;  // must not sneak a revocation in through an issue record
  ASSERT_TRUE(index->record_issue(record).ok());
  EXPECT_FALSE(index->certificates().back().revoked_at.has_value());
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->certificates().back().revoked_at.has_value());
}

// ---- refusals ----------------------------------------------------------------------------------

TEST_F(CertificateIndexTest, DuplicateSerialIsRejected) {
  auto index = three_records();
  const std::string before = slurp(path_);
  auto r = index.record_issue(make_record("0B02", "someone-else"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_EQ(index.certificates().size(), 3u);
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(CertificateIndexTest, FieldsThatWouldBreakTheFormatAreRejected) {
  auto index = three_records();
  const std::string before = slurp(path_);
  for (const auto& record :
       {make_record("", "empty-serial"), make_record("0D04", ""), make_record("0D04", "tab\there"),
        make_record("0D04", "new\nline"), make_record("0D\t04", "x"), make_record("0D04", "cr\r")}) {
    auto r = index.record_issue(record);
    ASSERT_FALSE(r.ok()) << record.serial << "/" << record.common_name;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
  EXPECT_EQ(slurp(path_), before);
  EXPECT_EQ(index.certificates().size(), 3u);
}

TEST_F(CertificateIndexTest, RevokingUnknownSerialIsNotFound) {
  auto index = three_records();
  const std::string before = slurp(path_);
  auto r = index.record_revocation("FFFF", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_EQ(slurp(path_), before);
}

TEST_F(CertificateIndexTest, RevokingTwiceIsAConflictAndKeepsFirstTime) {
  auto index = three_records();
  ASSERT_TRUE(index.record_revocation("0A01", kNow).ok());
  auto again = index.record_revocation("0A01", kNow + 100);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::conflict);
  EXPECT_EQ(index.find_serial("0A01")->revoked_at, kNow);

  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_NE(loaded->find_serial("0A01"), nullptr);
  EXPECT_EQ(loaded->find_serial("0A01")->revoked_at, kNow);
  EXPECT_FALSE(loaded->find_serial("0B02")->revoked_at.has_value());
}

TEST_F(CertificateIndexTest, CrlNumbersMustIncrease) {
  auto index = three_records();
  ASSERT_TRUE(index.record_crl(2, kNow).ok());
  for (std::uint64_t number : {std::uint64_t{2}, std::uint64_t{1}, std::uint64_t{0}}) {
    auto r = index.record_crl(number, kNow);
    ASSERT_FALSE(r.ok()) << number;
    EXPECT_EQ(r.error().code, Errc::conflict);
  }
  ASSERT_TRUE(index.record_crl(5, kNow).ok());  // gaps are fine
  EXPECT_EQ(index.last_crl_number(), 5u);
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->last_crl_number(), 5u);
  auto stale = loaded->record_crl(5, kNow);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::conflict);
}

// ---- crash safety: torn tails ------------------------------------------------------------------

TEST_F(CertificateIndexTest, TornTailIsIgnoredOnLoadAndLoadDoesNotWrite) {
  three_records();
  const std::string intact = slurp(path_);
  append_raw(path_, "issue\tABC\tdev");
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->certificates().size(), 3u);
  EXPECT_EQ(loaded->find_serial("ABC"), nullptr);
  EXPECT_EQ(slurp(path_), intact + "issue\tABC\tdev");  // loading alone repairs nothing
}

TEST_F(CertificateIndexTest, TornTailIsCutOffBeforeTheNextRecord) {
  three_records();
  const std::string intact = slurp(path_);
  append_raw(path_, "issue\tABC\tdev");
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto r = loaded->record_issue(make_record("0D04", "delta"));
  ASSERT_TRUE(r.ok()) << r.error().message;

  const std::string repaired = slurp(path_);
  EXPECT_EQ(repaired.find("ABC"), std::string::npos) << repaired;
  EXPECT_EQ(repaired.rfind(intact, 0), 0u);  // intact prefix kept byte for byte
  EXPECT_EQ(repaired.substr(intact.size()), line_of("issue\t0D04\tdevice\tdelta\t" + std::to_string(kNow - 3600) +
                                                    "\t" + std::to_string(kNow + 730 * kDay)));
  auto reloaded = CertificateIndex::load(path_);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  ASSERT_EQ(reloaded->certificates().size(), 4u);
  EXPECT_EQ(reloaded->certificates().back().serial, "0D04");
  EXPECT_EQ(reloaded->certificates().back().common_name, "delta");
}

TEST_F(CertificateIndexTest, TornTailIsCutOffByRevocationAndCrlRecordsToo) {
  three_records();
  append_raw(path_, "revoke\t0A0");
  {
    auto loaded = CertificateIndex::load(path_);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_FALSE(loaded->find_serial("0A01")->revoked_at.has_value());
    ASSERT_TRUE(loaded->record_revocation("0C03", kNow).ok());
  }
  append_raw(path_, "crl\t9");
  {
    auto loaded = CertificateIndex::load(path_);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->last_crl_number(), 0u);
    ASSERT_TRUE(loaded->record_crl(1, kNow).ok());
  }
  const std::string text = slurp(path_);
  EXPECT_EQ(text.find("revoke\t0A0"), std::string::npos) << text;
  EXPECT_EQ(text.find("crl\t9"), std::string::npos);
  auto reloaded = CertificateIndex::load(path_);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_FALSE(reloaded->find_serial("0A01")->revoked_at.has_value());
  EXPECT_EQ(reloaded->find_serial("0C03")->revoked_at, kNow);
  EXPECT_EQ(reloaded->last_crl_number(), 1u);
  EXPECT_EQ(lines_of(text).size(), 6u);
}

TEST_F(CertificateIndexTest, RecordMissingOnlyItsNewlineIsTorn) {
  three_records();
  const std::string intact = slurp(path_);
  std::string almost = line_of("issue\t0E05\tdevice\techo\t1\t2");
  almost.pop_back();  // the write stopped one byte short: the record never became durable
  append_raw(path_, almost);
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->find_serial("0E05"), nullptr);
  EXPECT_EQ(loaded->certificates().size(), 3u);

  ASSERT_TRUE(loaded->record_revocation("0A01", kNow).ok());
  EXPECT_EQ(slurp(path_), intact + line_of("revoke\t0A01\t" + std::to_string(kNow)));
  auto reloaded = CertificateIndex::load(path_);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(reloaded->find_serial("0E05"), nullptr);
  EXPECT_EQ(reloaded->find_serial("0A01")->revoked_at, kNow);
}

TEST_F(CertificateIndexTest, CompleteFinalLineWithWrongChecksumIsTreatedAsTorn) {
  three_records();
  const std::string intact = slurp(path_);
  append_raw(path_, wrong_checksum_line("issue\t0E05\tdevice\techo\t1\t2"));
  auto loaded = CertificateIndex::load(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->certificates().size(), 3u);
  EXPECT_EQ(loaded->find_serial("0E05"), nullptr);

  ASSERT_TRUE(loaded->record_crl(1, kNow).ok());
  const std::string repaired = slurp(path_);
  EXPECT_EQ(repaired, intact + line_of("crl\t1\t" + std::to_string(kNow)));
  auto reloaded = CertificateIndex::load(path_);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(reloaded->certificates().size(), 3u);
  EXPECT_EQ(reloaded->last_crl_number(), 1u);
}

// ---- corruption --------------------------------------------------------------------------------

TEST_F(CertificateIndexTest, DamagedMiddleLineIsCorruptWithItsLineNumber) {
  three_records();
  std::string text = slurp(path_);
  auto at = text.find("bravo");  // line 3: header, alpha, bravo, charlie
  ASSERT_NE(at, std::string::npos);
  text[at] = 'B';
  overwrite(path_, text);
  auto loaded = CertificateIndex::load(path_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::corrupt);
  EXPECT_NE(loaded.error().message.find("line 3"), std::string::npos) << loaded.error().message;
}

TEST_F(CertificateIndexTest, DamagedChecksumInTheMiddleIsCorrupt) {
  three_records();
  auto lines = lines_of(slurp(path_));
  ASSERT_EQ(lines.size(), 4u);
  char& last_digit = lines[1].back();  // alpha's checksum, line 2
  last_digit = last_digit == '0' ? '1' : '0';
  overwrite(path_, lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3] + "\n");
  auto loaded = CertificateIndex::load(path_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::corrupt);
  EXPECT_NE(loaded.error().message.find("line 2"), std::string::npos) << loaded.error().message;
}

TEST_F(CertificateIndexTest, DamagedLineFollowedByTornTailIsStillCorrupt) {
  three_records();
  append_raw(path_, wrong_checksum_line("issue\t0E05\tdevice\techo\t1\t2") + "crl\t4");
  auto loaded = CertificateIndex::load(path_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::corrupt);
  EXPECT_NE(loaded.error().message.find("line 5"), std::string::npos) << loaded.error().message;
}

TEST_F(CertificateIndexTest, ChecksummedButMeaninglessRecordsAreCorrupt) {
  struct Case {
    std::string line;
    std::string why;
  };
  const Case cases[] = {
      {line_of("issue\tAA\tprinter\tx\t1\t2"), "unknown kind"},
      {line_of("issue\tAA\tdevice\tx\tsoon\t2"), "bad time"},
      {line_of("issue\tAA\tdevice\tx\t1"), "missing field"},
      {line_of("issue\t0A01\tdevice\tagain\t1\t2"), "serial issued twice"},
      {line_of("revoke\tFFFF\t1"), "revocation of unknown serial"},
      {line_of("revoke\t0A01\tyesterday"), "bad revocation time"},
      {line_of("crl\t-1\t5"), "bad crl number"},
      {line_of("launch\tmissiles"), "unknown record"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why);
    overwrite(path_, kHeaderLine + line_of("issue\t0A01\tdevice\talpha\t1\t2") + c.line);
    auto loaded = CertificateIndex::load(path_);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, Errc::corrupt);
    EXPECT_NE(loaded.error().message.find("line 3"), std::string::npos) << loaded.error().message;
  }
}

TEST_F(CertificateIndexTest, WrongHeaderIsCorrupt) {
  for (const std::string& content :
       {line_of("kelvin-pki-index\t2"), line_of("something-else") + line_of("crl\t1\t5"),
        std::string("kelvin-pki-index\t1\n"), std::string("hello world\n"), std::string(), line_of("crl\t1\t5")}) {
    SCOPED_TRACE(content);
    overwrite(path_, content);
    auto loaded = CertificateIndex::load(path_);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, Errc::corrupt);
  }
}

TEST_F(CertificateIndexTest, MissingFileIsNotFound) {
  auto loaded = CertificateIndex::load(path_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::not_found);
  EXPECT_NE(loaded.error().message.find(path_.string()), std::string::npos);
}

}  // namespace
}  // namespace kelvin::pki
