#pragma once
/// What both HTTP clients (the blocking `session` and the `event_client`) keep of a response as
/// its head and body arrive: status and header fields, Set-Cookie into the jar, the media type,
/// whether the body is kept (HTML, unknown type, or keep_non_html_body) or drained (up to 64 KiB,
/// else the request is cancelled so the connection is dropped), the Content-Encoding decoder, the
/// body and decompression-ratio caps and the total timeout. The transport feeds it; when a callback
/// returns false the transport stops reading, and `stop()` says why (none: a quiet discard).
///
/// Not thread-safe; one reader per request.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "fetch/decoder.hpp"
#include "fetch/session.hpp"

namespace crawld::fetch {

class response_reader {
 public:
  using steady = std::chrono::steady_clock;

  /// Fills `r` (which must outlive the reader) for a request of `u` started at `started`.
  response_reader(const options& o, const parse::url& u, steady::time_point started, response& r);

  /// The head arrived: `headers` ordered by name (case-insensitively, repeated names in wire
  /// order), as `response::headers` promises. False: stop reading.
  bool on_head(int status, header_list headers);
  /// `n` body bytes as received (still content-encoded). False: stop reading.
  bool on_body(const char* data, std::size_t n);
  /// The transport read the whole response: a kept body whose encoded stream did not end is
  /// bad_encoding. Sets r.error when so.
  void on_complete();

  /// Why a callback returned false (none: a discarded body past the drain limit).
  fetch_error stop() const { return stop_; }
  const std::string& stop_message() const { return stop_message_; }
  /// The cancellation reason from outside the callbacks (e.g. an exception caught around them).
  void set_stop(fetch_error e, std::string message);
  bool keep_body() const { return keep_body_; }
  /// Whether the total timeout has passed (sets stop when so).
  bool over_total();

 private:
  const options& o_;
  const parse::url& u_;
  steady::time_point started_;
  response& r_;
  std::size_t drain_limit_;
  bool keep_body_ = false;
  std::unique_ptr<decoder> dec_;
  fetch_error stop_ = fetch_error::none;
  std::string stop_message_;
};

/// "Text/HTML; charset=x" -> "text/html".
std::string media_type(std::string_view value);
/// A Content-Length value (saturating at 2^60: any such length is beyond every cap); nullopt when
/// it is not a plain decimal number.
std::optional<std::uint64_t> content_length(std::string_view number);

}  // namespace crawld::fetch
