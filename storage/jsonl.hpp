#pragma once
/// JSON Lines export of page records: one JSON object per line, keys in this order:
/// url, final_url, status, outcome, content_type, length (bytes of the stored body), wire_bytes,
/// fetched_at (ISO 8601 UTC with milliseconds), duration_ms (number, microsecond precision), depth,
/// outlinks, redirect_chain (array of strings), location, canonical, truncated (bool),
/// digest (`sha1:` + base32 of the stored body; of the empty string when no body was kept).
/// A seed request sent with a method and body (job files' [[seed]]) adds, last: method,
/// request_content_type, request_body (the body as sent, as a JSON string). Plain GETs have none
/// of these keys.
///
/// Strings are valid JSON and valid UTF-8 whatever the input bytes: `"` `\` and control characters
/// are escaped (\n \r \t \b \f, others \u00XX, also DEL as \u007f and U+2028/U+2029 as \u2028
/// \u2029 for JavaScript readers); every byte that does not start a well-formed UTF-8 sequence
/// (overlong forms, surrogates, beyond U+10FFFF, cut sequences) becomes one U+FFFD.
/// Pure functions are thread-safe; a jsonl_writer is not.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "storage/page.hpp"

namespace crawld::storage {

/// `s` as a quoted JSON string, escaped as above.
std::string json_quote(std::string_view s);
/// `YYYY-MM-DDThh:mm:ss.sssZ`.
std::string iso8601_utc_ms(std::int64_t unix_ms);
/// The page as one JSON object followed by '\n'.
std::string page_to_jsonl(const page_record& p);

/// Appends lines to a file (created or truncated at open). Errors name the file.
class jsonl_writer {
 public:
  static result<std::unique_ptr<jsonl_writer>> open(const std::string& path);
  ~jsonl_writer();
  jsonl_writer(const jsonl_writer&) = delete;
  jsonl_writer& operator=(const jsonl_writer&) = delete;

  result<void> write(const page_record& p);
  /// Flushes and closes; reports a write error that buffering delayed. Idempotent.
  result<void> close();

 private:
  jsonl_writer() = default;
  std::string path_;
  std::FILE* f_ = nullptr;
};

}  // namespace crawld::storage
