// make bench-fleet's helper (bench/fleet/run), a plain program, not a test:
//   fleet_tool issue PKI_DIR PREFIX COUNT
//       issues device certificates PREFIX01.. in one process (kelvinctl would start once per
//       device); devices that already have one are skipped.
//   fleet_tool verify STORE_DB SIM_STATE_DIR PREFIX COUNT
//       checks that nothing was lost: for every simulated device, each seq it produced is either
//       stored (the store's ack covers it, each stored once) or still in its outbox journal.
//       Prints a summary; exits 1 when a reading is missing.

#include <cstdio>
#include <ctime>
#include <string>

#include "kelvin/linux_port/file_outbox_journal.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/store/store.hpp"

namespace {

using namespace kelvin;

std::string device_id(const std::string& prefix, int number) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%02d", number);  // as kelvin-agent simulate names them
  return prefix + digits;
}

int issue(const std::filesystem::path& pki_dir, const std::string& prefix, int count) {
  auto ca = pki::CertificateAuthority::open(pki_dir);
  if (!ca) {
    std::fprintf(stderr, "fleet_tool: %s\n", ca.error().message.c_str());
    return 1;
  }
  int issued = 0;
  for (int i = 1; i <= count; ++i) {
    const std::string id = device_id(prefix, i);
    if (std::filesystem::exists(ca->paths().identity_certificate(pki::CertificateKind::device, id))) continue;
    auto identity = ca->issue(pki::CertificateKind::device, id, {}, std::time(nullptr));
    if (!identity) {
      std::fprintf(stderr, "fleet_tool: %s: %s\n", id.c_str(), identity.error().message.c_str());
      return 1;
    }
    ++issued;
  }
  std::printf("issued %d device certificates (%d already there)\n", issued, count - issued);
  return 0;
}

int verify(const std::filesystem::path& db, const std::filesystem::path& sim_state, const std::string& prefix,
           int count) {
  auto store = store::Store::open(db);
  if (!store) {
    std::fprintf(stderr, "fleet_tool: %s\n", store.error().message.c_str());
    return 1;
  }
  std::uint64_t produced_total = 0, stored_total = 0, pending_total = 0, lost_total = 0, devices_short = 0;
  for (int i = 1; i <= count; ++i) {
    const std::string id = device_id(prefix, i);
    auto journal = linux_port::FileOutboxJournal::open(sim_state / id);
    if (!journal) {
      std::fprintf(stderr, "fleet_tool: %s: %s\n", id.c_str(), journal.error().message.c_str());
      return 1;
    }
    const device::OutboxSnapshot outbox = journal->snapshot();
    const std::uint64_t produced = outbox.next_seq - 1;
    auto info = store->device(id);
    if (!info) {
      std::fprintf(stderr, "fleet_tool: %s: %s\n", id.c_str(), info.error().message.c_str());
      return 1;
    }
    const std::uint64_t acked = *info ? (*info)->acked_seq : 0;
    const std::uint64_t stored = *info ? (*info)->readings_stored : 0;
    // Stored readings are 1..acked when none was rejected or given up; the outbox holds the rest.
    const std::uint64_t first_pending = outbox.pending.empty() ? produced + 1 : outbox.pending.front().seq;
    const std::uint64_t lost = first_pending > acked + 1 ? first_pending - acked - 1 : 0;
    if (lost > 0 || stored != acked || outbox.dropped_total > 0) ++devices_short;
    produced_total += produced;
    stored_total += stored;
    pending_total += outbox.pending.size();
    lost_total += lost;
  }
  std::printf(
      "devices %d, readings produced %llu, stored %llu, still in outboxes %llu, lost %llu, devices with a "
      "gap %llu\n",
      count, static_cast<unsigned long long>(produced_total), static_cast<unsigned long long>(stored_total),
      static_cast<unsigned long long>(pending_total), static_cast<unsigned long long>(lost_total),
      static_cast<unsigned long long>(devices_short));
  return lost_total == 0 && devices_short == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "issue" && argc == 5) return issue(argv[2], argv[3], std::stoi(argv[4]));
  if (command == "verify" && argc == 6) return verify(argv[2], argv[3], argv[4], std::stoi(argv[5]));
  std::fprintf(stderr,
               "usage: fleet_tool issue PKI_DIR PREFIX COUNT\n"
               "       fleet_tool verify STORE_DB SIM_STATE_DIR PREFIX COUNT\n");
  return 2;
}
