#pragma once
/// The stored form of one fetched URL (one hop), and its binary encoding.
///
/// Encoding is versioned and self-delimiting (version 1 when `request` is empty; version 2 appends
/// `request`; version 3, store format 2, holds the body as one LZ4 block); `decode` rejects
/// truncated or foreign bytes with a clear error instead of reading garbage, and always returns
/// the body decompressed. Pure and thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace crawld::storage {

/// The encoding of page_record::body.
enum class body_codec : std::uint8_t { none = 0, lz4 = 1 };

struct page_record {
  std::string url;            ///< normalized URL that was requested (the key)
  std::string final_url;      ///< last URL of the redirect chain that ended here (== url if none)
  int status = 0;             ///< HTTP status, 0 when no response
  std::string outcome;        ///< ok, redirect, not_found, client_error, server_error, timeout, ...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::int64_t fetched_at_ms = 0;   ///< Unix time in milliseconds
  std::int64_t duration_us = 0;
  int depth = 0;
  std::vector<std::string> redirect_chain;  ///< URLs that redirected to this one, in order
  std::string location;       ///< resolved redirect target, for 3xx
  std::string canonical;      ///< rel=canonical target, if any
  std::uint32_t outlinks = 0; ///< links admitted or not, as extracted
  std::uint64_t wire_bytes = 0;
  bool truncated = false;
  std::string body;           ///< decoded body (empty for non-HTML by default); see `codec`
  /// The request's spec (base/request.hpp encode_request bytes) when it was not a plain GET (a
  /// seed request with a method and body); "" for a plain GET. Stored from format version 2 on.
  std::string request;
  /// How `body` holds the bytes: `none` (as they are), or `lz4` after compress_body (then `body`
  /// is one LZ4 block of `body_size` bytes). `decode` returns `none` only.
  body_codec codec = body_codec::none;
  std::uint64_t body_size = 0;  ///< the body's decoded size when `codec` is lz4
};

/// Compresses `p.body` in place into one LZ4 block (codec lz4) when it is at least 256 bytes and
/// LZ4 makes it smaller; otherwise leaves it as it is. Done by the parsers, so the store writer
/// (one thread) does not compress. No effect when already compressed.
void compress_body(page_record& p);

/// The key of a request in the `seen` and `pages` column families: the normalized URL for a plain
/// GET; for a request with a spec, URL '\0' METHOD ' ' and the first 32 hex digits of the SHA-256
/// of the spec bytes (like Scrapy's request fingerprint: method and body make a different request).
/// Never equal to a URL key (normalized URLs hold no NUL), so a GET link to the same URL found
/// later is a request of its own.
std::string request_key(std::string_view url, std::string_view request);
/// The record's key in `pages`: request_key(url, request).
inline std::string page_key(const page_record& p) { return request_key(p.url, p.request); }

std::string encode(const page_record& p);
/// `encode(p)` in three pieces, head + body + tail, so a writer can hand them over without
/// copying the body into one string first. `body` views `p.body`: valid while `p` is unchanged.
/// A compressed body (codec lz4) is written as it is, in a version 3 record.
struct encoded_parts {
  std::string head;
  std::string_view body;
  std::string tail;
};
encoded_parts encode_parts(const page_record& p);
/// The record, its body decompressed. Errors: empty, unknown version, truncated, trailing bytes,
/// a field out of range, an unknown body codec, an LZ4 block that does not decode to exactly its
/// stated size (or states more than LZ4 can expand it to).
result<page_record> decode(std::string_view bytes);

}  // namespace crawld::storage
