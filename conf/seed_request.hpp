#pragma once
/// Bodies of seed requests (docs/job-file.md `[[seed]]`, docs/cli.md "Seed requests"): the
/// encodings aiohttp users expect, and the `crawld crawl` flags that build one. Pure, no CAF.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/request.hpp"
#include "base/result.hpp"

namespace crawld::conf {

/// One form field value percent-encoded as Python's urllib.parse.quote_plus does (what aiohttp's
/// `session.post(data=dict)` sends): ASCII letters, digits and `_.-~` as they are, space as '+',
/// every other byte %XX (upper-case hex).
std::string form_encode(std::string_view s);
/// application/x-www-form-urlencoded: name=value pairs, each side form_encode'd, joined by '&'.
std::string form_urlencode(const std::vector<std::pair<std::string, std::string>>& fields);

/// `s` as a JSON string the way Python's json.dumps writes it (ensure_ascii): `"` `\` and
/// \b \f \n \r \t escaped, other bytes outside ' '..'~' as \uXXXX (lower-case hex; characters
/// beyond U+FFFF as a surrogate pair). `s` must be UTF-8; an invalid byte is an error.
result<std::string> json_dumps_string(std::string_view s);
/// A double as Python's repr writes it (shortest round trip; "1.0", "1e+16", "1e-05"); an error
/// for NaN and infinities (not JSON).
result<std::string> json_dumps_double(double v);

/// The seed-request flags of `crawld crawl` (curl-like).
struct request_flags {
  std::string method;                       ///< --request/-X ("" = POST with a body, else GET)
  std::vector<std::string> data;            ///< --data STR: form data as given, joined by '&'
  std::vector<std::string> data_urlencode;  ///< --data-urlencode [NAME=]VALUE: VALUE form-encoded
  std::optional<std::string> json;          ///< --json STR: a JSON text, sent as given
  std::string content_type;                 ///< --content-type: overrides the body's type
};

/// The request the flags describe, or nullopt when they describe a plain GET (no flag given).
/// Errors (one line, naming the flags): --json with --data/--data-urlencode, an invalid --json
/// text, an unknown method, a body with GET or DELETE, --content-type without a body.
result<std::optional<request_spec>> request_from_flags(const request_flags& f);

}  // namespace crawld::conf
