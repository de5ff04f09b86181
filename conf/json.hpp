#pragma once
/// A minimal JSON reader and writer for the daemon's control API (no JSON library in Debian's
/// base set is assumed). Plain code, no CAF.
///
/// Reader: RFC 8259 values; objects keep their keys in document order (duplicates: the last
/// wins on lookup); numbers are doubles, and also exact int64 when written without fraction or
/// exponent and in range; strings are UTF-8 (\u escapes, surrogate pairs decoded). Nesting deeper
/// than 64 levels, trailing text, bad escapes and control characters in strings are errors with
/// line:column. Never throws; never recurses without bound.
/// Writer: `quote` escapes a string for JSON (control characters as \u00XX; bytes >= 0x80 pass
/// through, so invalid UTF-8 in is invalid UTF-8 out: callers pass UTF-8).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace crawld::conf {

struct json {
  enum class kind { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool b = false;
  double num = 0;
  bool is_int = false;  ///< number written as an integer that fits int64
  std::int64_t i = 0;
  std::string str;
  std::vector<json> items;                             ///< array
  std::vector<std::pair<std::string, json>> members;   ///< object, in document order

  /// The member named `key` (last one if repeated), or null.
  const json* find(std::string_view key) const;
};

/// Parses one JSON text. The error message starts with "line L, column C: ".
result<json> parse_json(std::string_view text);

/// `s` as a JSON string literal, quotes included.
std::string quote(std::string_view s);

}  // namespace crawld::conf
