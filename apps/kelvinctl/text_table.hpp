#pragma once
// Plain-text tables for the terminal: columns two spaces apart, padded by display width (UTF-8
// code points, so "°C" lines up), numbers right-aligned if asked. The last column is not padded,
// so no line ends in spaces.

#include <ostream>
#include <string>
#include <vector>

namespace kelvin::ctl {

enum class Align { left, right };

struct TableColumn {
  std::string title;
  Align align = Align::left;
};

class TextTable {
 public:
  explicit TextTable(std::vector<TableColumn> columns);

  // Precondition: one cell per column.
  void add_row(std::vector<std::string> cells);
  void print(std::ostream& out) const;

 private:
  std::vector<TableColumn> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace kelvin::ctl
