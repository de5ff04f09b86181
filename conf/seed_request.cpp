#include "conf/seed_request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "conf/json.hpp"

namespace crawld::conf {

std::string form_encode(std::string_view s) {
  static const char* const hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string form_urlencode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty())
      out.push_back('&');
    out += form_encode(k) + "=" + form_encode(v);
  }
  return out;
}

result<std::string> json_dumps_string(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  auto u16 = [&](unsigned v) {
    std::snprintf(buf, sizeof buf, "\\u%04x", v);
    out += buf;
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7f)
            u16(c);
          else
            out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // UTF-8 sequence -> code point
    int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (c >= 0xF5)
      len = 0;
    if (len == 0 || i + len > s.size())
      return make_error("not valid UTF-8");
    unsigned cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80)
        return make_error("not valid UTF-8");
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return make_error("not valid UTF-8");
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u16(0xD800 + (cp >> 10));
      u16(0xDC00 + (cp & 0x3FF));
    } else {
      u16(cp);
    }
    i += static_cast<std::size_t>(len);
  }
  out.push_back('"');
  return out;
}

result<std::string> json_dumps_double(double v) {
  if (!std::isfinite(v))
    return make_error("NaN and infinities are not JSON");
  if (v == 0)
    return std::string(std::signbit(v) ? "-0.0" : "0.0");
  // Shortest round-trip digits and exponent, then Python's repr layout: positional for
  // 1e-4 <= |v| < 1e16, else d[.ddd]e+XX.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  bool neg = sci[0] == '-';
  if (neg)
    sci.erase(0, 1);
  const auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(e + 1));
  std::string out = neg ? "-" : "";
  if (exp >= -5 + 1 && exp < 16) {
    if (exp >= 0) {
      std::string ip = digits.size() > static_cast<std::size_t>(exp) ? digits.substr(0, exp + 1)
                                                                      : digits + std::string(exp + 1 - digits.size(), '0');
      std::string fp = digits.size() > static_cast<std::size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out += ip + "." + fp;
    } else {
      out += "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  return out;
}

result<std::optional<request_spec>> request_from_flags(const request_flags& f) {
  const bool form = !f.data.empty() || !f.data_urlencode.empty();
  if (f.method.empty() && !form && !f.json && f.content_type.empty())
    return std::optional<request_spec>();
  if (form && f.json)
    return make_error("--json cannot be combined with --data or --data-urlencode");
  request_spec r;
  if (f.json) {
    if (auto j = parse_json(*f.json); !j)
      return make_error("--json is not valid JSON: " + j.message());
    r.body = *f.json;
    r.content_type = "application/json";
  } else if (form) {
    for (const auto& d : f.data) {
      if (!r.body.empty())
        r.body.push_back('&');
      r.body += d;
    }
    for (const auto& d : f.data_urlencode) {
      if (!r.body.empty())
        r.body.push_back('&');
      const auto eq = d.find('=');
      if (eq == std::string::npos)
        r.body += form_encode(d);
      else if (eq == 0)
        r.body += form_encode(d.substr(1));
      else
        r.body += d.substr(0, eq) + "=" + form_encode(d.substr(eq + 1));
    }
    r.content_type = "application/x-www-form-urlencoded";
  }
  if (!f.content_type.empty()) {
    if (!f.json && !form)
      return make_error("--content-type needs a body (--data, --data-urlencode or --json)");
    r.content_type = f.content_type;
  }
  r.method = f.method;
  std::transform(r.method.begin(), r.method.end(), r.method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (r.method.empty())
    r.method = form || f.json ? "POST" : "GET";
  if (!known_method(r.method))
    return make_error("--request must be one of GET, POST, PUT, PATCH, DELETE, got '" + f.method + "'");
  if ((r.method == "GET" || r.method == "DELETE") && (form || f.json))
    return make_error("--request " + r.method + " cannot send a body (--data, --data-urlencode or --json)");
  return std::optional<request_spec>(std::move(r));
}

}  // namespace crawld::conf
