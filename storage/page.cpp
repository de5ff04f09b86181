#include "storage/page.hpp"

#include <lz4.h>
#include <openssl/evp.h>

#include <limits>
#include <memory>

#include "base/request.hpp"

// Layout (version 1): one version byte, then every field of page_record in declaration order.
//   string / bytes : varint length, raw bytes
//   unsigned       : varint (LEB128, at most 10 bytes)
//   signed         : zigzag varint
//   bool           : one byte, 0 or 1
//   list           : varint count, then the elements
// A new field means a new version byte; decode refuses versions it does not know.
// Version 2 = version 1 + `request` (string) at the end; written only when `request` is set.
// Version 3 = version 2 with the body field replaced by: codec (varint, 1 = LZ4 block), decoded
// size (varint), the block (string); `request` may be empty. Written for a compressed body only.

namespace crawld::storage {
namespace {

constexpr unsigned char page_version = 3;  // the newest this crawld reads
constexpr std::size_t compress_min = 256;  // smaller bodies are stored as they are
// LZ4 expands a block at most ~255-fold (one length byte per 255 bytes of match); a record that
// states more is corrupt, and is refused before anything is allocated for it.
constexpr std::uint64_t lz4_max_ratio = 255;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_signed(std::string& out, std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  put_varint(out, (u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s.data(), s.size());
}

/// Reads fields front to back; the first failure sets `error` and every later read fails too.
class reader {
 public:
  explicit reader(std::string_view bytes) : in_(bytes) {}

  bool failed() const { return !error_.empty(); }
  const std::string& error_message() const { return error_; }
  std::size_t remaining() const { return in_.size() - pos_; }

  std::uint64_t varint(const char* field) {
    std::uint64_t v = 0;
    for (int shift = 0; !failed(); shift += 7) {
      if (pos_ == in_.size()) {
        fail_truncated(field);
        return 0;
      }
      const auto b = static_cast<unsigned char>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        fail(std::string("varint overflows 64 bits in field '") + field + "'");
        return 0;
      }
      v |= std::uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return 0;
  }

  std::int64_t signed_varint(const char* field) {
    const std::uint64_t u = varint(field);
    const std::uint64_t magnitude = u >> 1;
    return static_cast<std::int64_t>((u & 1) ? ~magnitude : magnitude);
  }

  template <class Int>
  Int bounded(std::int64_t v, const char* field) {
    if (v < static_cast<std::int64_t>(std::numeric_limits<Int>::min()) ||
        v > static_cast<std::int64_t>(std::numeric_limits<Int>::max())) {
      fail(std::string("value out of range in field '") + field + "'");
      return 0;
    }
    return static_cast<Int>(v);
  }

  std::string string(const char* field) {
    const std::uint64_t n = varint(field);
    if (failed()) return {};
    if (n > remaining()) {
      fail_truncated(field);
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  /// A list length; each element takes at least one byte, so larger counts are truncation.
  std::uint64_t count(const char* field) {
    const std::uint64_t n = varint(field);
    if (!failed() && n > remaining()) fail_truncated(field);
    return failed() ? 0 : n;
  }

  bool boolean(const char* field) {
    if (failed()) return false;
    if (pos_ == in_.size()) {
      fail_truncated(field);
      return false;
    }
    const auto b = static_cast<unsigned char>(in_[pos_++]);
    if (b > 1) fail(std::string("invalid boolean in field '") + field + "'");
    return b == 1;
  }

  void fail(std::string message) {
    if (!failed()) error_ = std::move(message);
  }

 private:
  void fail_truncated(const char* field) {
    fail(std::string("truncated in field '") + field + "'");
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

void compress_body(page_record& p) {
  if (p.codec != body_codec::none || p.body.size() < compress_min || p.body.size() > LZ4_MAX_INPUT_SIZE)
    return;
  // The block goes to a scratch buffer (this thread's, kept up to 1 MiB; not zero-filled), then
  // over the body in its own allocation: no large allocation and free per page (each large
  // malloc made glibc consolidate its fast bins).
  constexpr std::size_t keep_max = 1u << 20;
  thread_local std::unique_ptr<char[]> scratch(new char[keep_max]);
  const int n = static_cast<int>(p.body.size());
  const auto bound = static_cast<std::size_t>(LZ4_compressBound(n));
  std::unique_ptr<char[]> big(bound > keep_max ? new char[bound] : nullptr);
  char* out = big ? big.get() : scratch.get();
  const int m = LZ4_compress_default(p.body.data(), out, n, static_cast<int>(bound));
  if (m <= 0 || m >= n) return;  // incompressible: stored as it is
  p.body_size = p.body.size();
  p.body.assign(out, static_cast<std::size_t>(m));
  p.codec = body_codec::lz4;
}

encoded_parts encode_parts(const page_record& p) {
  encoded_parts e;
  auto& out = e.head;
  out.reserve(64 + p.url.size() + p.final_url.size());
  const bool packed = p.codec == body_codec::lz4;
  out.push_back(static_cast<char>(packed ? 3 : p.request.empty() ? 1 : 2));
  put_string(out, p.url);
  put_string(out, p.final_url);
  put_signed(out, p.status);
  put_string(out, p.outcome);
  put_varint(out, p.headers.size());
  for (const auto& [name, value] : p.headers) {
    put_string(out, name);
    put_string(out, value);
  }
  put_string(out, p.content_type);
  put_signed(out, p.fetched_at_ms);
  put_signed(out, p.duration_us);
  put_signed(out, p.depth);
  put_varint(out, p.redirect_chain.size());
  for (const auto& u : p.redirect_chain) put_string(out, u);
  put_string(out, p.location);
  put_string(out, p.canonical);
  put_varint(out, p.outlinks);
  put_varint(out, p.wire_bytes);
  out.push_back(p.truncated ? 1 : 0);
  if (packed) {
    put_varint(out, static_cast<std::uint64_t>(body_codec::lz4));
    put_varint(out, p.body_size);
  }
  put_varint(out, p.body.size());
  e.body = p.body;
  if (packed || !p.request.empty()) put_string(e.tail, p.request);
  return e;
}

std::string encode(const page_record& p) {
  const auto e = encode_parts(p);
  std::string out;
  out.reserve(e.head.size() + e.body.size() + e.tail.size());
  out.append(e.head).append(e.body).append(e.tail);
  return out;
}

std::string request_key(std::string_view url, std::string_view request) {
  if (request.empty()) return std::string(url);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  std::string key(url);
  key.push_back('\0');
  key += request_method(request);
  key.push_back(' ');
  if (EVP_Digest(request.data(), request.size(), md, &n, EVP_sha256(), nullptr) != 1) {
    key += request;  // cannot happen with OpenSSL's built-in SHA-256; still a distinct key
    return key;
  }
  static const char* const hex = "0123456789abcdef";
  for (unsigned int i = 0; i < 16 && i < n; ++i) {
    key.push_back(hex[md[i] >> 4]);
    key.push_back(hex[md[i] & 15]);
  }
  return key;
}

result<page_record> decode(std::string_view bytes) {
  if (bytes.empty()) return make_error("page record: empty");
  const auto version = static_cast<unsigned char>(bytes[0]);
  if (version < 1 || version > page_version) {
    return make_error("page record: unknown format version " + std::to_string(version) +
                      " (this crawld reads 1 to " + std::to_string(page_version) + ")");
  }
  reader in(bytes.substr(1));
  page_record p;
  p.url = in.string("url");
  p.final_url = in.string("final_url");
  p.status = in.bounded<int>(in.signed_varint("status"), "status");
  p.outcome = in.string("outcome");
  for (auto n = in.count("headers"); n > 0 && !in.failed(); --n) {
    auto name = in.string("headers");
    auto value = in.string("headers");
    p.headers.emplace_back(std::move(name), std::move(value));
  }
  p.content_type = in.string("content_type");
  p.fetched_at_ms = in.signed_varint("fetched_at_ms");
  p.duration_us = in.signed_varint("duration_us");
  p.depth = in.bounded<int>(in.signed_varint("depth"), "depth");
  for (auto n = in.count("redirect_chain"); n > 0 && !in.failed(); --n)
    p.redirect_chain.push_back(in.string("redirect_chain"));
  p.location = in.string("location");
  p.canonical = in.string("canonical");
  const std::uint64_t outlinks = in.varint("outlinks");
  if (outlinks > std::numeric_limits<std::uint32_t>::max())
    in.fail("value out of range in field 'outlinks'");
  p.outlinks = static_cast<std::uint32_t>(outlinks);
  p.wire_bytes = in.varint("wire_bytes");
  p.truncated = in.boolean("truncated");
  if (version == 3) {
    const std::uint64_t codec = in.varint("body codec");
    const std::uint64_t size = in.varint("body size");
    std::string block = in.string("body");
    if (!in.failed() && codec != static_cast<std::uint64_t>(body_codec::lz4))
      in.fail("unknown body codec " + std::to_string(codec));
    if (!in.failed() && (size > LZ4_MAX_INPUT_SIZE || size > block.size() * lz4_max_ratio + 64))
      in.fail("body states " + std::to_string(size) + " bytes, more than its " +
              std::to_string(block.size()) + "-byte LZ4 block can hold");
    if (!in.failed()) {
      p.body.assign(static_cast<std::size_t>(size), '\0');
      const int n = LZ4_decompress_safe(block.data(), p.body.data(), static_cast<int>(block.size()),
                                        static_cast<int>(size));
      if (n < 0 || static_cast<std::uint64_t>(n) != size)
        in.fail("body: corrupt LZ4 block (" + std::to_string(block.size()) + " bytes, stating " +
                std::to_string(size) + ")");
    }
  } else {
    p.body = in.string("body");
  }
  if (version >= 2) {
    p.request = in.string("request");
    if (!in.failed() && version == 2 && p.request.empty()) in.fail("empty request in a version 2 record");
  }
  if (!in.failed() && in.remaining() != 0)
    in.fail(std::to_string(in.remaining()) + " trailing bytes after the record");
  if (in.failed()) return make_error("page record: " + in.error_message());
  return p;
}

}  // namespace crawld::storage
