#pragma once
// A reading's values in the `readings` table: one REAL column per quantity, named as the quantity
// and in the order of proto::kQuantities (temperature, humidity), NULL where the reading has no
// value. Every statement that writes or reads them lists the columns in that order, so the value
// of quantity q is at (first column or parameter) + q.

#include <cstddef>

#include "kelvin/proto/telemetry.hpp"
#include "sqlite.hpp"

namespace kelvin::store {

// A new quantity in the protocol needs its column in `readings` (a schema version with a
// migration), in the statements that list the value columns, and here.
static_assert(proto::kQuantityCount == 2 && proto::kQuantities[0].name == "temperature" &&
                  proto::kQuantities[1].name == "humidity",
              "readings has the value columns temperature and humidity, in this order");

inline int value_index(proto::Quantity quantity) {
  return static_cast<int>(quantity);
}

// Binds the reading's values to parameters first, first + 1, ... (NULL where it has none).
inline void bind_values(sqlite::Statement& statement, int first, const proto::Reading& reading) {
  for (std::size_t i = 0; i < proto::kQuantityCount; ++i) {
    const int parameter = first + static_cast<int>(i);
    if (reading.values[i]) {
      statement.bind(parameter, *reading.values[i]);
    } else {
      statement.bind_null(parameter);
    }
  }
}

// Sets the reading's values from columns first, first + 1, ...; returns whether any was not NULL
// (a reading whose values retention deleted has none).
inline bool read_values(const sqlite::Statement& row, int first, proto::Reading& reading) {
  bool any = false;
  for (std::size_t i = 0; i < proto::kQuantityCount; ++i) {
    const int column = first + static_cast<int>(i);
    if (row.column_is_null(column)) continue;
    reading.values[i] = row.column_double(column);
    any = true;
  }
  return any;
}

}  // namespace kelvin::store
