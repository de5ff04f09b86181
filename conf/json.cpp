#include "conf/json.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "parse/utf8.hpp"

namespace crawld::conf {

const json* json::find(std::string_view key) const {
  const json* hit = nullptr;
  for (const auto& [k, v] : members)
    if (k == key)
      hit = &v;
  return hit;
}

namespace {

constexpr int max_depth = 64;

class reader {
 public:
  explicit reader(std::string_view t) : t_(t) {}

  result<json> document() {
    json v;
    if (!value(v, 0))
      return make_error(err_);
    ws();
    if (p_ != t_.size()) {
      fail("unexpected text after the JSON value");
      return make_error(err_);
    }
    return v;
  }

 private:
  bool fail(const std::string& what) {
    if (!err_.empty())
      return false;
    int line = 1, col = 1;
    for (std::size_t k = 0; k < p_ && k < t_.size(); ++k) {
      if (t_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    err_ = "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what;
    return false;
  }

  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r'))
      ++p_;
  }

  bool literal(std::string_view word) {
    if (t_.substr(p_, word.size()) != word)
      return fail("invalid literal");
    p_ += word.size();
    return true;
  }

  bool value(json& out, int depth) {
    if (depth > max_depth)
      return fail("nested deeper than 64 levels");
    ws();
    if (p_ >= t_.size())
      return fail("unexpected end of input");
    char c = t_[p_];
    switch (c) {
      case '{': return object(out, depth);
      case '[': return array(out, depth);
      case '"': out.type = json::kind::string; return string(out.str);
      case 't': out.type = json::kind::boolean; out.b = true; return literal("true");
      case 'f': out.type = json::kind::boolean; out.b = false; return literal("false");
      case 'n': out.type = json::kind::null; return literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9'))
          return number(out);
        return fail(std::string("unexpected character '") + c + "'");
    }
  }

  bool object(json& out, int depth) {
    out.type = json::kind::object;
    ++p_;
    ws();
    if (p_ < t_.size() && t_[p_] == '}') {
      ++p_;
      return true;
    }
    while (true) {
      ws();
      if (p_ >= t_.size() || t_[p_] != '"')
        return fail("expected a string key");
      std::string key;
      if (!string(key))
        return false;
      ws();
      if (p_ >= t_.size() || t_[p_] != ':')
        return fail("expected ':'");
      ++p_;
      json v;
      if (!value(v, depth + 1))
        return false;
      out.members.emplace_back(std::move(key), std::move(v));
      ws();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == '}') {
        ++p_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(json& out, int depth) {
    out.type = json::kind::array;
    ++p_;
    ws();
    if (p_ < t_.size() && t_[p_] == ']') {
      ++p_;
      return true;
    }
    while (true) {
      json v;
      if (!value(v, depth + 1))
        return false;
      out.items.push_back(std::move(v));
      ws();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (p_ < t_.size() && t_[p_] == ']') {
        ++p_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool hex4(std::uint32_t& out) {
    if (p_ + 4 > t_.size())
      return fail("truncated \\u escape");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      char c = t_[p_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return fail("bad hex digit in \\u escape");
    }
    return true;
  }

  bool string(std::string& out) {
    ++p_;  // opening quote
    while (true) {
      if (p_ >= t_.size())
        return fail("unterminated string");
      char c = t_[p_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= t_.size())
        return fail("unterminated string");
      char e = t_[p_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp))
            return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (t_.substr(p_, 2) != "\\u")
              return fail("unpaired surrogate in \\u escape");
            p_ += 2;
            if (!hex4(lo))
              return false;
            if (lo < 0xDC00 || lo > 0xDFFF)
              return fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired surrogate in \\u escape");
          }
          parse::append_utf8(out, cp);
          break;
        }
        default: --p_; return fail("bad escape in string");
      }
    }
  }

  bool number(json& out) {
    std::size_t start = p_;
    bool integral = true;
    if (t_[p_] == '-')
      ++p_;
    auto digits = [&] {
      std::size_t s = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9')
        ++p_;
      return p_ - s;
    };
    if (p_ < t_.size() && t_[p_] == '0')
      ++p_;
    else if (digits() == 0)
      return fail("bad number");
    if (p_ < t_.size() && t_[p_] == '.') {
      integral = false;
      ++p_;
      if (digits() == 0)
        return fail("bad number: digits expected after '.'");
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      integral = false;
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-'))
        ++p_;
      if (digits() == 0)
        return fail("bad number: digits expected in the exponent");
    }
    std::string text(t_.substr(start, p_ - start));
    out.type = json::kind::number;
    out.num = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(out.num))
      return fail("number out of range");
    if (integral) {
      errno = 0;
      long long v = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == 0) {
        out.is_int = true;
        out.i = v;
      }
    }
    return true;
  }

  std::string_view t_;
  std::size_t p_ = 0;
  std::string err_;
};

}  // namespace

result<json> parse_json(std::string_view text) { return reader(text).document(); }

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace crawld::conf
