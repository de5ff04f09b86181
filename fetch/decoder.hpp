#pragma once
/// Streaming decoder for an HTTP Content-Encoding (identity, gzip, x-gzip, deflate, br) that
/// appends decoded bytes to a string without ever letting it grow past a cap.
///
/// "gzip" and "deflate" accept gzip or zlib framing; "deflate" also accepts raw deflate (as sent
/// by some broken servers). Concatenated gzip members are decoded in turn. Extra memory is bounded
/// by the codec state plus a 16 KiB buffer. Not thread-safe; one decoder per body.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace crawld::fetch {

class decoder {
 public:
  enum class status {
    ok,       ///< all input consumed, more may follow
    full,     ///< output would exceed the cap: `out` holds exactly the first `cap` bytes
    corrupt,  ///< the encoded stream is invalid
  };

  /// A decoder for the Content-Encoding header value `encoding` ("" = identity; tokens are
  /// case-insensitive; "identity" tokens are ignored). Fails for unknown or stacked codings.
  static result<std::unique_ptr<decoder>> make(std::string_view encoding);

  virtual ~decoder() = default;

  /// Decodes `in` and appends to `out`, never letting `out.size()` exceed `cap`.
  /// After `full` or `corrupt`, further calls return the same status.
  virtual status feed(std::string_view in, std::string& out, std::size_t cap) = 0;

  /// True when the encoded stream ended properly (identity: always).
  virtual bool complete() const = 0;

  /// The coding name as it will be reported ("identity", "gzip", "deflate", "br").
  virtual const char* name() const = 0;
};

}  // namespace crawld::fetch
