#pragma once
/// An incremental HTTP/1.x response parser (RFC 9112) for the event-driven client: bytes go in as
/// they arrive, in pieces of any size; out come the head (status line and header fields) and the
/// body's payload with the framing removed (chunked transfer-coding, Content-Length, or until the
/// connection closes). No allocation per body byte: body pieces point into the caller's buffer.
///
/// Accepts what real servers send, somewhat more than cpp-httplib 0.11 does: LF as well as CRLF
/// line ends, obsolete line folding (joined with one space), chunked trailers, a missing reason
/// phrase, 1xx interim responses (skipped; not 101). Rejects, with a message naming the fault: a status line that is not `HTTP/1.x NNN`,
/// a status below 100, a header line without a colon, head bytes beyond the cap, a Content-Length
/// that is not one decimal number (or several different ones), malformed chunk sizes and chunk
/// ends. A Transfer-Encoding whose last coding is not chunked makes the body run until the close
/// (RFC 9112 6.3). Chunk extensions and trailer fields are read and dropped.
///
/// Not thread-safe; one parser per connection, `reset` between responses on a kept-alive one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crawld::fetch {

/// A response's status line and header fields, as received (names keep their case; values
/// are trimmed of surrounding whitespace; repeated fields keep wire order).
struct response_head {
  int version_minor = 1;  ///< HTTP/1.<minor>
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;

  /// The first value of field `name` (case-insensitive), "" when absent.
  std::string_view field(std::string_view name) const;
  /// Whether the connection may carry another request after this response (HTTP/1.1 unless
  /// "Connection: close"; HTTP/1.0 only with "Connection: keep-alive").
  bool keep_alive() const;
};

class http1_parser {
 public:
  enum class state {
    head,    ///< reading the status line and header fields
    body,    ///< head complete, reading the body
    done,    ///< the response is complete; bytes after it (`feed`'s return) belong to the next one
    failed,  ///< malformed: see `error()`
  };

  /// `max_head_bytes` caps the status line and header fields of one response (interim 1xx
  /// responses included).
  explicit http1_parser(std::size_t max_head_bytes = 256u << 10);

  /// Prepares for the next response. `no_body`: the request was HEAD (the response has no body
  /// whatever its fields say).
  void reset(bool no_body = false);

  /// Consumes up to `n` bytes. When the head completes (and its framing fields are valid),
  /// `on_head(const response_head&)` is called once; then `on_body(std::string_view)` for each piece of payload. A callback returning false
  /// stops parsing there (the parser stays in its state; the caller abandons the connection).
  /// Returns the number of bytes consumed: less than `n` only when the response completed (state
  /// done, the rest is the next response's), parsing failed, or a callback stopped it.
  template <class OnHead, class OnBody>
  std::size_t feed(const char* data, std::size_t n, OnHead&& on_head, OnBody&& on_body);

  /// The peer closed the connection: a body delimited by the close is complete (state done);
  /// anywhere else the response is truncated (state failed, "connection closed ...").
  void finish();

  state current() const { return state_; }
  const std::string& error() const { return error_; }
  const response_head& head() const { return head_; }
  /// Bytes of head consumed so far (for the cap; also tells "nothing received" from a partial head).
  std::size_t head_bytes() const { return head_bytes_; }
  /// Whether the body is delimited by the connection's close (neither chunked nor a length).
  bool close_delimited() const { return mode_ == body_mode::until_close; }

 private:
  enum class body_mode { none, length, chunked, until_close };
  enum class chunk_state { size, ext, size_lf, data, data_cr, data_lf, trailer, trailer_lf };

  // Consumes head bytes; true when the head (of a final response) completed.
  std::size_t feed_head(const char* data, std::size_t n, bool& completed);
  bool parse_head();  // parses line_buf_ into head_; false: failed
  void start_body();
  bool fail(std::string why);

  std::size_t max_head_bytes_;
  bool no_body_ = false;
  state state_ = state::head;
  std::string error_;
  response_head head_;
  std::string head_buf_;  // the head so far (status line + fields), raw
  std::size_t head_bytes_ = 0;
  std::size_t line_start_ = 0;   // where the current head line starts in head_buf_
  body_mode mode_ = body_mode::none;
  std::uint64_t remaining_ = 0;  // length mode: bytes left; chunked: bytes left in this chunk
  chunk_state chunk_ = chunk_state::size;
  bool chunk_digits_ = false;    // a hex digit seen in this chunk-size line
  std::size_t line_bytes_ = 0;   // bytes of the current chunk-size/trailer line (capped)
  bool trailer_empty_ = true;    // the trailer line so far is empty
};

template <class OnHead, class OnBody>
std::size_t http1_parser::feed(const char* data, std::size_t n, OnHead&& on_head, OnBody&& on_body) {
  std::size_t used = 0;
  while (used < n) {
    if (state_ == state::head) {
      bool completed = false;
      used += feed_head(data + used, n - used, completed);
      if (state_ == state::failed) return used;
      if (!completed) continue;
      start_body();  // the framing is checked before the head is handed out
      if (state_ == state::failed) return used;
      if (!on_head(static_cast<const response_head&>(head_))) return used;
      continue;
    }
    if (state_ != state::body) return used;
    const char* p = data + used;
    const std::size_t avail = n - used;
    switch (mode_) {
      case body_mode::none: state_ = state::done; return used;
      case body_mode::until_close:
        used = n;
        if (!on_body(std::string_view(p, avail))) return used;
        continue;
      case body_mode::length: {
        const std::size_t take = remaining_ < avail ? static_cast<std::size_t>(remaining_) : avail;
        used += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = state::done;
        if (!on_body(std::string_view(p, take))) return used;
        continue;
      }
      case body_mode::chunked: break;
    }
    // chunked
    if (chunk_ == chunk_state::data) {
      const std::size_t take = remaining_ < avail ? static_cast<std::size_t>(remaining_) : avail;
      used += take;
      remaining_ -= take;
      if (remaining_ == 0) chunk_ = chunk_state::data_cr;
      if (take > 0 && !on_body(std::string_view(p, take))) return used;
      continue;
    }
    const char c = *p;
    ++used;
    if (++line_bytes_ > 4096) {
      fail("chunk-size or trailer line longer than 4096 bytes");
      return used;
    }
    switch (chunk_) {
      case chunk_state::size: {
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v >= 0) {
          if (remaining_ >> 60) {
            fail("chunk size too large");
            return used;
          }
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(v);
          chunk_digits_ = true;
        } else if (!chunk_digits_) {
          fail("malformed chunk size");
          return used;
        } else if (c == ';' || c == ' ' || c == '\t') {
          chunk_ = chunk_state::ext;
        } else if (c == '\r') {
          chunk_ = chunk_state::size_lf;
        } else if (c == '\n') {
          goto size_line_done;
        } else {
          fail("malformed chunk size");
          return used;
        }
        continue;
      }
      case chunk_state::ext:
        if (c == '\r') chunk_ = chunk_state::size_lf;
        else if (c == '\n') goto size_line_done;
        continue;
      case chunk_state::size_lf:
        if (c != '\n') {
          fail("malformed chunk size line end");
          return used;
        }
      size_line_done:
        line_bytes_ = 0;
        chunk_digits_ = false;
        if (remaining_ == 0) {
          chunk_ = chunk_state::trailer;
          trailer_empty_ = true;
        } else {
          chunk_ = chunk_state::data;
        }
        continue;
      case chunk_state::data_cr:
        if (c == '\r') {
          chunk_ = chunk_state::data_lf;
          continue;
        }
        if (c != '\n') {
          fail("chunk data not followed by a line end");
          return used;
        }
        [[fallthrough]];
      case chunk_state::data_lf:
        if (c != '\n') {
          fail("chunk data not followed by a line end");
          return used;
        }
        chunk_ = chunk_state::size;
        line_bytes_ = 0;
        continue;
      case chunk_state::trailer:
        if (c == '\r') {
          chunk_ = chunk_state::trailer_lf;
        } else if (c == '\n') {
          if (trailer_empty_) {
            state_ = state::done;
            return used;
          }
          trailer_empty_ = true;
          line_bytes_ = 0;
        } else {
          trailer_empty_ = false;
        }
        continue;
      case chunk_state::trailer_lf:
        if (c != '\n') {
          fail("malformed trailer line end");
          return used;
        }
        if (trailer_empty_) {
          state_ = state::done;
          return used;
        }
        chunk_ = chunk_state::trailer;
        trailer_empty_ = true;
        line_bytes_ = 0;
        continue;
      case chunk_state::data: break;  // handled above
    }
  }
  if (state_ == state::body && mode_ == body_mode::none) state_ = state::done;
  if (state_ == state::body && mode_ == body_mode::length && remaining_ == 0) state_ = state::done;
  return used;
}

}  // namespace crawld::fetch
