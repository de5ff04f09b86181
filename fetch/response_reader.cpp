#include "fetch/response_reader.hpp"

#include <algorithm>

#include "base/ascii.hpp"

namespace crawld::fetch {
namespace {

/// Bodies of discarded (non-HTML) responses up to this size are read and dropped so that the
/// connection stays reusable; larger ones cancel the request.
constexpr std::size_t max_drain_bytes = 64 * 1024;

}  // namespace

std::string media_type(std::string_view value) {
  value = value.substr(0, std::min(value.find(';'), value.size()));
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::string r(value);
  std::transform(r.begin(), r.end(), r.begin(), ascii_lower);
  return r;
}

std::optional<std::uint64_t> content_length(std::string_view number) {
  if (number.empty()) return std::nullopt;
  constexpr std::uint64_t saturated = std::uint64_t(1) << 60;
  std::uint64_t v = 0;
  for (char c : number) {
    if (c < '0' || c > '9') return std::nullopt;
    v = std::min(saturated, v * 10 + static_cast<std::uint64_t>(c - '0'));
  }
  return v;
}

response_reader::response_reader(const options& o, const parse::url& u, steady::time_point started, response& r)
    : o_(o),
      u_(u),
      started_(started),
      r_(r),
      drain_limit_(o.capture_raw ? o.max_body_bytes : std::min(o.max_body_bytes, max_drain_bytes)) {}

void response_reader::set_stop(fetch_error e, std::string message) {
  stop_ = e;
  stop_message_ = std::move(message);
}

bool response_reader::over_total() {
  if (steady::now() - started_ < o_.total_timeout) return false;
  set_stop(fetch_error::timeout, "total timeout of " + std::to_string(o_.total_timeout.count()) + " ms exceeded");
  return true;
}

bool response_reader::on_head(int status, header_list headers) {
  r_.status = status;
  r_.headers = std::move(headers);
  if (o_.cookies)
    for (const auto& [k, v] : r_.headers)
      if (iequals(k, "Set-Cookie"))
        o_.cookies->set(u_, v);
  r_.content_type = media_type(r_.header("Content-Type"));
  if (over_total()) return false;
  keep_body_ = o_.keep_non_html_body || r_.content_type.empty() || r_.is_html();
  if (!keep_body_) {
    const auto length = content_length(r_.header("Content-Length"));
    return !length || *length <= drain_limit_;
  }
  auto made = decoder::make(r_.header("Content-Encoding"));
  if (!made) {
    set_stop(fetch_error::bad_encoding, made.message());
    return false;
  }
  dec_ = std::move(*made);
  // An identity body of known length: one allocation, not a chain of doublings and copies
  // (up to 1 MiB: a declared length is a claim, the bytes still have to arrive).
  if (std::string_view(dec_->name()) == "identity")
    if (const auto n = content_length(r_.header("Content-Length")))
      r_.body.reserve(std::min<std::uint64_t>({*n, o_.max_body_bytes, std::uint64_t(1) << 20}));
  return true;
}

bool response_reader::on_body(const char* data, std::size_t n) {
  r_.wire_bytes += n;
  if (over_total()) return false;
  if (!keep_body_) return r_.wire_bytes <= drain_limit_;
  std::size_t cap = o_.max_body_bytes;
  bool ratio_cap = false;
  if (o_.max_ratio > 0 && r_.wire_bytes <= cap / o_.max_ratio) {
    const std::size_t by_ratio = std::max<std::size_t>(o_.ratio_floor_bytes, r_.wire_bytes * o_.max_ratio);
    if (by_ratio < cap) {
      cap = by_ratio;
      ratio_cap = true;
    }
  }
  switch (dec_->feed(std::string_view(data, n), r_.body, cap)) {
    case decoder::status::ok: return true;
    case decoder::status::full:
      set_stop(fetch_error::too_large,
               ratio_cap ? "decompression ratio above " + std::to_string(o_.max_ratio) + ":1 (" +
                               std::to_string(r_.wire_bytes) + " bytes on the wire)"
                         : "decoded body exceeds " + std::to_string(o_.max_body_bytes) + " bytes");
      return false;
    case decoder::status::corrupt:
      set_stop(fetch_error::bad_encoding, std::string("corrupt ") + dec_->name() + " stream");
      return false;
  }
  return false;
}

void response_reader::on_complete() {
  if (keep_body_ && dec_ && r_.wire_bytes > 0 && !dec_->complete()) {
    r_.error = fetch_error::bad_encoding;
    r_.error_message = std::string("truncated ") + dec_->name() + " stream";
  }
}

}  // namespace crawld::fetch
