#include "storage/jsonl.hpp"

#include "base/request.hpp"

#include <cerrno>
#include <cstring>

#include "storage/warc.hpp"

namespace crawld::storage {

namespace {

/// Length of the well-formed UTF-8 sequence at s[i] (1-4), or 0 if the byte there does not start
/// one (RFC 3629: no overlongs, no surrogates, nothing beyond U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  std::size_t rest = s.size() - i;
  auto cont = [&](std::size_t k) { return k < s.size() && (at(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return rest >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (rest < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char d = at(i + 1);
    if (c == 0xE0 && d < 0xA0) return 0;   // overlong
    if (c == 0xED && d >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (rest < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char d = at(i + 1);
    if (c == 0xF0 && d < 0x90) return 0;   // overlong
    if (c == 0xF4 && d >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

void append_int(std::string& out, std::int64_t v) { out += std::to_string(v); }

}  // namespace

std::string json_quote(std::string_view s) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += digits[c >> 4];
      out += digits[c & 15];
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for this byte
      ++i;
      continue;
    }
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out += '"';
  return out;
}

std::string iso8601_utc_ms(std::int64_t unix_ms) { return warc_date(unix_ms); }

std::string page_to_jsonl(const page_record& p) {
  std::string o = "{\"url\":" + json_quote(p.url);
  o += ",\"final_url\":" + json_quote(p.final_url);
  o += ",\"status\":";
  append_int(o, p.status);
  o += ",\"outcome\":" + json_quote(p.outcome);
  o += ",\"content_type\":" + json_quote(p.content_type);
  o += ",\"length\":";
  append_int(o, std::int64_t(p.body.size()));
  o += ",\"wire_bytes\":" + std::to_string(p.wire_bytes);
  o += ",\"fetched_at\":" + json_quote(iso8601_utc_ms(p.fetched_at_ms));
  std::int64_t us = p.duration_us;
  o += ",\"duration_ms\":";
  if (us < 0) {
    o += '-';
    us = -us;
  }
  std::string frac = std::to_string(us % 1000);
  o += std::to_string(us / 1000) + "." + std::string(3 - frac.size(), '0') + frac;
  o += ",\"depth\":";
  append_int(o, p.depth);
  o += ",\"outlinks\":" + std::to_string(p.outlinks);
  o += ",\"redirect_chain\":[";
  for (std::size_t i = 0; i < p.redirect_chain.size(); ++i) {
    if (i) o += ',';
    o += json_quote(p.redirect_chain[i]);
  }
  o += "],\"location\":" + json_quote(p.location);
  o += ",\"canonical\":" + json_quote(p.canonical);
  o += std::string(",\"truncated\":") + (p.truncated ? "true" : "false");
  o += ",\"digest\":" + json_quote(warc_sha1_digest(p.body));
  if (!p.request.empty()) {  // a seed request with a method and body (base/request.hpp)
    auto rq = decode_request(p.request);
    o += ",\"method\":" + json_quote(rq ? rq->method : request_method(p.request));
    if (rq) {
      o += ",\"request_content_type\":" + json_quote(rq->content_type);
      o += ",\"request_body\":" + json_quote(rq->body);
    }
  }
  o += "}\n";
  return o;
}

result<std::unique_ptr<jsonl_writer>> jsonl_writer::open(const std::string& path) {
  std::unique_ptr<jsonl_writer> w(new jsonl_writer());
  w->path_ = path;
  w->f_ = std::fopen(path.c_str(), "we");
  if (!w->f_) return make_error("cannot create JSONL file '" + path + "': " + std::strerror(errno));
  return w;
}

jsonl_writer::~jsonl_writer() { (void)close(); }

result<void> jsonl_writer::write(const page_record& p) {
  if (!f_) return make_error("JSONL file '" + path_ + "' is closed");
  std::string line = page_to_jsonl(p);
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size())
    return make_error("cannot write JSONL file '" + path_ + "': " + std::strerror(errno));
  return {};
}

result<void> jsonl_writer::close() {
  if (!f_) return {};
  bool bad = std::ferror(f_) != 0;
  int e = 0;
  if (std::fflush(f_) != 0) {
    bad = true;
    e = errno;
  }
  if (std::fclose(f_) != 0 && !bad) {
    bad = true;
    e = errno;
  }
  f_ = nullptr;
  if (bad)
    return make_error("cannot write JSONL file '" + path_ + "': " +
                      (e ? std::strerror(e) : "write error"));
  return {};
}

}  // namespace crawld::storage
