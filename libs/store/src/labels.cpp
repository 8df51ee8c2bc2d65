// Device labels (docs/registry.md, "Labels"): the labels an operator gives devices, read with the
// devices and used to address them as a group.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "kelvin/core/identity.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

// `labels` checked against the grammar, each once, sorted.
Result<std::set<std::string>> checked_labels(const std::vector<std::string>& labels) {
  std::set<std::string> out;
  for (const auto& label : labels) {
    if (auto valid = validate_label(label); !valid) return std::move(valid).error();
    out.insert(label);
  }
  return out;
}

Result<void> check_label_count(std::string_view device_id, std::size_t count) {
  if (count <= kMaxLabelsPerDevice) return {};
  return make_error(Errc::invalid_argument, "device '" + std::string(device_id) + "' would carry " +
                                                std::to_string(count) + " labels; a device carries at most " +
                                                std::to_string(kMaxLabelsPerDevice));
}

// Steps `select` (bound and reset by the caller) to its end: the first column of every row.
Result<std::vector<std::string>> first_texts(sqlite::Statement& select) {
  std::vector<std::string> texts;
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return texts;
    texts.push_back(select.column_text(0));
  }
}

Error unknown_device(std::string_view device_id) {
  return make_error(Errc::not_found, "device '" + std::string(device_id) +
                                         "' is not in the gateway's store: register it with kelvinctl device add, "
                                         "or wait until it has connected");
}

}  // namespace

Result<std::vector<std::string>> Store::Impl::labels_of(std::int64_t device_row) {
  auto& select = statements_.labels_of_device;
  StatementReset reset(select);
  select.bind(1, device_row);
  return first_texts(select);
}

Result<std::map<std::int64_t, std::vector<std::string>>> Store::Impl::labels_by_device() {
  std::map<std::int64_t, std::vector<std::string>> labels;
  auto& select = statements_.labels_all;
  StatementReset reset(select);
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) return labels;
    labels[select.column_int64(0)].push_back(select.column_text(1));
  }
}

Result<void> Store::Impl::write_labels(std::int64_t device_row, const std::vector<std::string>& labels) {
  {
    auto& clear = statements_.labels_clear;
    StatementReset reset(clear);
    clear.bind(1, device_row);
    if (auto done = clear.run(); !done) return done;
  }
  auto& insert = statements_.label_insert;
  for (const auto& label : labels) {
    StatementReset reset(insert);
    insert.bind(1, device_row);
    insert.bind(2, std::string_view(label));
    if (auto done = insert.run(); !done) return done;
  }
  return {};
}

namespace {

// The device's row id, or nullopt when the store does not know it.
Result<std::optional<std::int64_t>> row_of(sqlite::Statement& select, std::string_view device_id) {
  StatementReset reset(select);
  select.bind(1, device_id);
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(select.column_int64(0));
}

}  // namespace

Result<void> Store::Impl::register_device(std::string_view device_id, std::int64_t now_ms,
                                          const std::vector<std::string>& labels) {
  if (auto id = validate_device_id(device_id); !id) return id;
  auto wanted = checked_labels(labels);
  if (!wanted) return std::move(wanted).error();
  if (auto count = check_label_count(device_id, wanted->size()); !count) return count;

  auto transaction = sqlite::Transaction::begin(db_.get());
  if (!transaction) return std::move(transaction).error();
  {
    auto& upsert = statements_.device_register;
    StatementReset reset(upsert);
    upsert.bind(1, device_id);
    upsert.bind(2, now_ms);
    if (auto done = upsert.run(); !done) return done;
    if (upsert.changes() == 0) {
      return make_error(Errc::already_exists, "device '" + std::string(device_id) + "' is already registered");
    }
  }
  if (!wanted->empty()) {
    auto row = row_of(statements_.device_row_by_name, device_id);
    if (!row) return std::move(row).error();
    if (!*row) return unknown_device(device_id);  // not after the upsert, unless the database lies
    auto held = labels_of(**row);
    if (!held) return std::move(held).error();
    wanted->insert(held->begin(), held->end());
    if (auto count = check_label_count(device_id, wanted->size()); !count) return count;
    if (auto written = write_labels(**row, {wanted->begin(), wanted->end()}); !written) return written;
  }
  return transaction->commit();
}

Result<std::vector<std::string>> Store::Impl::change_device_labels(std::string_view device_id,
                                                                   const std::vector<std::string>& add,
                                                                   const std::vector<std::string>& remove) {
  if (auto id = validate_device_id(device_id); !id) return std::move(id).error();
  auto adding = checked_labels(add);
  if (!adding) return std::move(adding).error();
  auto removing = checked_labels(remove);
  if (!removing) return std::move(removing).error();
  for (const auto& label : *adding) {
    if (removing->contains(label)) {
      return make_error(Errc::invalid_argument, "label '" + label + "' is both added and removed: say which");
    }
  }

  auto transaction = sqlite::Transaction::begin(db_.get());
  if (!transaction) return std::move(transaction).error();
  auto row = row_of(statements_.device_row_by_name, device_id);
  if (!row) return std::move(row).error();
  if (!*row) return unknown_device(device_id);
  auto held = labels_of(**row);
  if (!held) return std::move(held).error();
  std::set<std::string> labels(held->begin(), held->end());
  labels.insert(adding->begin(), adding->end());
  for (const auto& label : *removing) labels.erase(label);
  if (auto count = check_label_count(device_id, labels.size()); !count) return std::move(count).error();
  std::vector<std::string> result(labels.begin(), labels.end());
  if (result != *held) {
    if (auto written = write_labels(**row, result); !written) return std::move(written).error();
  }
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return result;
}

Result<std::vector<std::string>> Store::Impl::set_device_labels(std::string_view device_id,
                                                                const std::vector<std::string>& labels) {
  if (auto id = validate_device_id(device_id); !id) return std::move(id).error();
  auto wanted = checked_labels(labels);
  if (!wanted) return std::move(wanted).error();
  if (auto count = check_label_count(device_id, wanted->size()); !count) return std::move(count).error();
  std::vector<std::string> result(wanted->begin(), wanted->end());

  auto transaction = sqlite::Transaction::begin(db_.get());
  if (!transaction) return std::move(transaction).error();
  auto row = row_of(statements_.device_row_by_name, device_id);
  if (!row) return std::move(row).error();
  if (!*row) return unknown_device(device_id);
  if (auto written = write_labels(**row, result); !written) return std::move(written).error();
  if (auto committed = transaction->commit(); !committed) return std::move(committed).error();
  return result;
}

Result<std::vector<std::string>> Store::Impl::devices_with_label(std::string_view label) {
  if (auto valid = validate_label(label); !valid) return std::move(valid).error();
  auto& select = statements_.devices_with_label;
  StatementReset reset(select);
  select.bind(1, label);
  return first_texts(select);
}

}  // namespace kelvin::store
