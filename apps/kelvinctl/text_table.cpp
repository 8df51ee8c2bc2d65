#include "text_table.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace kelvin::ctl {
namespace {

// Code points of well-formed UTF-8 (every byte that does not continue a sequence).
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

TextTable::TextTable(std::vector<TableColumn> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& column : columns_) widths.push_back(display_width(column.title));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_width(row[i]));
  }
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::size_t padding = widths[i] - display_width(cells[i]);
      const bool last = i + 1 == cells.size();
      if (columns_[i].align == Align::right) line.append(padding, ' ');
      line += cells[i];
      if (!last) {
        if (columns_[i].align == Align::left) line.append(padding, ' ');
        line += "  ";
      }
    }
    out << line << "\n";
  };
  std::vector<std::string> titles;
  for (const auto& column : columns_) titles.push_back(column.title);
  print_line(titles);
  for (const auto& row : rows_) print_line(row);
}

}  // namespace kelvin::ctl
