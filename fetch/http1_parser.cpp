#include "fetch/http1_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "base/ascii.hpp"

namespace crawld::fetch {
namespace {

/// Whether the comma-separated list `list` holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string_view response_head::field(std::string_view name) const {
  for (const auto& [k, v] : fields)
    if (iequals(k, name)) return v;
  return {};
}

bool response_head::keep_alive() const {
  bool close = false, keep = false;
  for (const auto& [k, v] : fields)
    if (iequals(k, "Connection")) {
      close = close || has_token(v, "close");
      keep = keep || has_token(v, "keep-alive");
    }
  if (close) return false;
  return version_minor >= 1 || keep;
}

http1_parser::http1_parser(std::size_t max_head_bytes) : max_head_bytes_(max_head_bytes) {}

void http1_parser::reset(bool no_body) {
  no_body_ = no_body;
  state_ = state::head;
  error_.clear();
  head_ = response_head{};
  head_buf_.clear();
  head_bytes_ = 0;
  line_start_ = 0;
  mode_ = body_mode::none;
  remaining_ = 0;
  chunk_ = chunk_state::size;
  chunk_digits_ = false;
  line_bytes_ = 0;
  trailer_empty_ = true;
}

bool http1_parser::fail(std::string why) {
  state_ = state::failed;
  error_ = std::move(why);
  return false;
}

std::size_t http1_parser::feed_head(const char* data, std::size_t n, bool& completed) {
  std::size_t used = 0;
  while (used < n) {
    const auto* nl = static_cast<const char*>(std::memchr(data + used, '\n', n - used));
    const std::size_t take = nl ? static_cast<std::size_t>(nl - (data + used)) + 1 : n - used;
    if (head_bytes_ + take > max_head_bytes_) {
      fail("response headers exceed " + std::to_string(max_head_bytes_) + " bytes");
      return used;
    }
    head_buf_.append(data + used, take);
    head_bytes_ += take;
    used += take;
    if (!nl) break;
    const std::size_t len = head_buf_.size() - line_start_;  // with its '\n'
    const bool empty = len == 1 || (len == 2 && head_buf_[line_start_] == '\r');
    if (!empty) {
      line_start_ = head_buf_.size();
      continue;
    }
    if (line_start_ == 0) {  // an empty line before the status line: tolerated, skipped
      head_buf_.clear();
      continue;
    }
    if (!parse_head()) return used;
    if (head_.status >= 100 && head_.status < 200 && head_.status != 101) {  // interim: skip it
      head_ = response_head{};
      head_buf_.clear();
      line_start_ = 0;
      continue;
    }
    completed = true;
    return used;
  }
  return used;
}

bool http1_parser::parse_head() {
  std::string_view rest(head_buf_);
  auto next_line = [&rest] {
    const auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  const std::string_view status = next_line();
  // HTTP/1.x NNN[ reason]
  if (status.size() < 12 || status.substr(0, 7) != "HTTP/1." || !std::isdigit(static_cast<unsigned char>(status[7])) ||
      status[8] != ' ' || !std::isdigit(static_cast<unsigned char>(status[9])) ||
      !std::isdigit(static_cast<unsigned char>(status[10])) || !std::isdigit(static_cast<unsigned char>(status[11])) ||
      (status.size() > 12 && status[12] != ' '))
    return fail("malformed status line '" + std::string(status.substr(0, 64)) + "'");
  head_.version_minor = status[7] - '0';
  head_.status = (status[9] - '0') * 100 + (status[10] - '0') * 10 + (status[11] - '0');
  // A status below 100 has no class (RFC 9110 15), and 0 means "no response" to the rest of
  // crawld: rejected. 600-999 are kept as received.
  if (head_.status < 100)
    return fail("malformed status line '" + std::string(status.substr(0, 64)) + "' (status below 100)");
  head_.reason = std::string(status.size() > 13 ? status.substr(13) : std::string_view());
  while (!rest.empty()) {
    const std::string_view line = next_line();
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
      if (head_.fields.empty()) return fail("header continuation line before any header field");
      auto& value = head_.fields.back().second;
      const auto more = trim_ows(line);
      if (!more.empty()) {
        if (!value.empty()) value += ' ';
        value += more;
      }
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return fail("malformed header line '" + std::string(line.substr(0, 64)) + "'");
    const auto name = trim_ows(line.substr(0, colon));
    if (name.empty()) return fail("malformed header line '" + std::string(line.substr(0, 64)) + "'");
    head_.fields.emplace_back(std::string(name), std::string(trim_ows(line.substr(colon + 1))));
  }
  return true;
}

void http1_parser::start_body() {
  state_ = state::body;
  const int s = head_.status;
  if (no_body_ || (s >= 100 && s < 200) || s == 204 || s == 304) {
    mode_ = body_mode::none;
    state_ = state::done;
    return;
  }
  // Transfer-Encoding: chunked when it is the last coding (empty list elements ignored, RFC 9110
  // 5.6.1, across repeated fields); any other last coding: the body runs until the close
  // (RFC 9112 6.3).
  std::string_view last_coding;
  bool has_te = false;
  for (const auto& [k, v] : head_.fields)
    if (iequals(k, "Transfer-Encoding")) {
      has_te = true;
      std::string_view list(v);
      while (true) {
        const auto comma = list.find(',');
        const auto token = trim_ows(list.substr(0, comma));
        if (!token.empty()) last_coding = token;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    }
  if (has_te) {
    mode_ = iequals(last_coding, "chunked") ? body_mode::chunked : body_mode::until_close;
    return;
  }
  bool has_length = false;
  std::uint64_t length = 0;
  for (const auto& [k, v] : head_.fields) {
    if (!iequals(k, "Content-Length")) continue;
    std::string_view list(v);
    while (true) {
      const auto comma = list.find(',');
      const auto number = trim_ows(list.substr(0, comma));
      std::uint64_t n = 0;
      if (number.empty() || number.size() > 18 ||
          !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        fail("malformed Content-Length '" + std::string(v.substr(0, 64)) + "'");
        return;
      }
      for (char c : number) n = n * 10 + static_cast<std::uint64_t>(c - '0');
      if (has_length && n != length) {
        fail("conflicting Content-Length values");
        return;
      }
      has_length = true;
      length = n;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  if (has_length) {
    mode_ = body_mode::length;
    remaining_ = length;
    if (length == 0) state_ = state::done;
    return;
  }
  mode_ = body_mode::until_close;
}

void http1_parser::finish() {
  if (state_ == state::done || state_ == state::failed) return;
  if (state_ == state::body && mode_ == body_mode::until_close) {
    state_ = state::done;
    return;
  }
  if (state_ == state::head)
    fail(head_bytes_ == 0 ? "connection closed before any response byte" : "connection closed in the response headers");
  else
    fail("connection closed mid-body");
}

}  // namespace crawld::fetch
