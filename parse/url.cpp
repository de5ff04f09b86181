#include "parse/url.hpp"
#include "parse/url_resolver.hpp"

#include <idn2.h>

#include <array>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace crawld::parse {
namespace {

// ---------------------------------------------------------------------------------------------
// Character classes and percent-encoding. Input is processed byte by byte: every set below
// contains all bytes >= 0x80, so a multi-byte UTF-8 sequence is encoded byte for byte, which is
// exactly what "UTF-8 percent-encode" of the code point gives.

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return to_lower(c) - 'a' + 10;
}

enum class encode_set { c0, fragment, query, special_query, path, userinfo };

bool in_set(unsigned char c, encode_set set) {
  if (c < 0x20 || c > 0x7E) return true;
  switch (set) {
    case encode_set::c0:
      return false;
    case encode_set::fragment:
      return c == ' ' || c == '"' || c == '<' || c == '>' || c == '`';
    case encode_set::special_query:
      if (c == '\'') return true;
      [[fallthrough]];
    case encode_set::query:
      return c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
    case encode_set::userinfo:
      if (c == '/' || c == ':' || c == ';' || c == '=' || c == '@' || c == '[' || c == '\\' ||
          c == ']' || c == '|')
        return true;
      [[fallthrough]];
    case encode_set::path:
      return c == ' ' || c == '"' || c == '#' || c == '<' || c == '>' || c == '?' || c == '^' ||
             c == '`' || c == '{' || c == '}';
  }
  return false;
}

void append_encoded(std::string& out, char c, encode_set set) {
  static const char digits[] = "0123456789ABCDEF";
  auto b = static_cast<unsigned char>(c);
  if (in_set(b, set)) {
    out += '%';
    out += digits[b >> 4];
    out += digits[b & 0xF];
  } else {
    out += c;
  }
}

std::string encode(std::string_view s, encode_set set) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) append_encoded(out, c, set);
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

int default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return -1;
}

bool is_special(std::string_view scheme) {
  return scheme == "http" || scheme == "https" || scheme == "ws" || scheme == "wss" ||
         scheme == "ftp" || scheme == "file";
}

bool is_drive_letter(std::string_view s) {
  return s.size() == 2 && is_alpha(s[0]) && (s[1] == ':' || s[1] == '|');
}
bool is_normalized_drive_letter(std::string_view s) { return is_drive_letter(s) && s[1] == ':'; }
bool starts_with_drive_letter(std::string_view s) {
  if (s.size() < 2 || !is_drive_letter(s.substr(0, 2))) return false;
  if (s.size() == 2) return true;
  char c = s[2];
  return c == '/' || c == '\\' || c == '?' || c == '#';
}

bool is_single_dot(std::string_view s) { return s == "." || iequals(s, "%2e"); }
bool is_double_dot(std::string_view s) {
  return s == ".." || iequals(s, ".%2e") || iequals(s, "%2e.") || iequals(s, "%2e%2e");
}

// ---------------------------------------------------------------------------------------------
// Hosts.

bool forbidden_host_cp(unsigned char c) {
  switch (c) {
    case 0: case '\t': case '\n': case '\r': case ' ': case '#': case '/': case ':': case '<':
    case '>': case '?': case '@': case '[': case '\\': case ']': case '^': case '|':
      return true;
    default:
      return false;
  }
}
bool forbidden_domain_cp(unsigned char c) {
  return forbidden_host_cp(c) || c < 0x20 || c == '%' || c == 0x7F;
}

std::optional<std::string> parse_ipv6(std::string_view in) {
  std::array<uint16_t, 8> a{};
  size_t p = 0;
  int piece = 0;
  int compress = -1;
  auto at = [&](size_t i) -> int { return i < in.size() ? static_cast<unsigned char>(in[i]) : -1; };
  if (at(p) == ':') {
    if (at(p + 1) != ':') return std::nullopt;
    p += 2;
    compress = ++piece;
  }
  while (at(p) != -1) {
    if (piece == 8) return std::nullopt;
    if (at(p) == ':') {
      if (compress != -1) return std::nullopt;
      ++p;
      compress = ++piece;
      continue;
    }
    unsigned value = 0;
    int length = 0;
    while (length < 4 && at(p) != -1 && is_hex(static_cast<char>(at(p)))) {
      value = value * 16 + static_cast<unsigned>(hex_value(static_cast<char>(at(p))));
      ++p;
      ++length;
    }
    if (at(p) == '.') {
      if (length == 0) return std::nullopt;
      p -= static_cast<size_t>(length);
      if (piece > 6) return std::nullopt;
      int seen = 0;
      while (at(p) != -1) {
        int v4 = -1;
        if (seen > 0) {
          if (at(p) == '.' && seen < 4) ++p;
          else return std::nullopt;
        }
        if (at(p) == -1 || !is_digit(static_cast<char>(at(p)))) return std::nullopt;
        while (at(p) != -1 && is_digit(static_cast<char>(at(p)))) {
          int n = at(p) - '0';
          if (v4 == -1) v4 = n;
          else if (v4 == 0) return std::nullopt;
          else v4 = v4 * 10 + n;
          if (v4 > 255) return std::nullopt;
          ++p;
        }
        a[piece] = static_cast<uint16_t>(a[piece] * 0x100 + v4);
        ++seen;
        if (seen == 2 || seen == 4) ++piece;
      }
      if (seen != 4) return std::nullopt;
      break;
    } else if (at(p) == ':') {
      ++p;
      if (at(p) == -1) return std::nullopt;
    } else if (at(p) != -1) {
      return std::nullopt;
    }
    a[piece++] = static_cast<uint16_t>(value);
  }
  if (compress != -1) {
    int swaps = piece - compress;
    piece = 7;
    while (piece != 0 && swaps > 0) {
      std::swap(a[piece], a[compress + swaps - 1]);
      --piece;
      --swaps;
    }
  } else if (piece != 8) {
    return std::nullopt;
  }
  // Serialize: compress the first longest run of two or more zero pieces.
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (a[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && a[j] == 0) ++j;
    if (j - i > best_len) { best = i; best_len = j - i; }
    i = j;
  }
  std::string out = "[";
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += i == 0 ? "::" : ":";
      i += best_len - 1;
      continue;
    }
    char buf[5];
    int n = 0;
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int d = (a[i] >> shift) & 0xF;
      if (d || started || shift == 0) { buf[n++] = digits[d]; started = true; }
    }
    out.append(buf, static_cast<size_t>(n));
    if (i != 7) out += ':';
  }
  out += ']';
  return out;
}

/// The IPv4 number parser; nullopt on failure. Values saturate well above 2^32.
std::optional<uint64_t> parse_ipv4_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int radix = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    radix = 16;
  } else if (s.size() >= 2 && s[0] == '0') {
    s.remove_prefix(1);
    radix = 8;
  }
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (radix == 16 && is_hex(c)) d = hex_value(c);
    else if (radix == 10 && is_digit(c)) d = c - '0';
    else if (radix == 8 && c >= '0' && c <= '7') d = c - '0';
    else return std::nullopt;
    v = v * static_cast<uint64_t>(radix) + static_cast<uint64_t>(d);
    if (v > (uint64_t{1} << 40)) v = uint64_t{1} << 40;
  }
  return v;
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

bool ends_in_number(std::string_view s) {
  auto parts = split_dots(s);
  if (parts.back().empty()) {
    if (parts.size() == 1) return false;
    parts.pop_back();
  }
  std::string_view last = parts.back();
  if (!last.empty()) {
    bool all_digits = true;
    for (char c : last) all_digits = all_digits && is_digit(c);
    if (all_digits) return true;
  }
  return parse_ipv4_number(last).has_value();
}

std::optional<std::string> parse_ipv4(std::string_view s) {
  auto parts = split_dots(s);
  if (parts.back().empty() && parts.size() > 1) parts.pop_back();
  if (parts.size() > 4) return std::nullopt;
  std::vector<uint64_t> numbers;
  for (auto part : parts) {
    auto n = parse_ipv4_number(part);
    if (!n) return std::nullopt;
    numbers.push_back(*n);
  }
  for (size_t i = 0; i + 1 < numbers.size(); ++i)
    if (numbers[i] > 255) return std::nullopt;
  if (numbers.back() >= (uint64_t{1} << (8 * (5 - numbers.size())))) return std::nullopt;
  uint64_t v = numbers.back();
  for (size_t i = 0; i + 1 < numbers.size(); ++i) v += numbers[i] << (8 * (3 - i));
  return std::to_string((v >> 24) & 0xFF) + "." + std::to_string((v >> 16) & 0xFF) + "." +
         std::to_string((v >> 8) & 0xFF) + "." + std::to_string(v & 0xFF);
}

/// One label through libidn2 (UTS #46 mapping, non-transitional); nullopt when it rejects it.
std::optional<std::string> idn2_label(std::string_view label) {
  std::string in(label);
  if (in.find('\0') != std::string::npos) return std::nullopt;
  char* res = nullptr;
  int rc = idn2_to_ascii_8z(in.c_str(), &res,
                            IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT | IDN2_NO_ALABEL_ROUNDTRIP);
  std::optional<std::string> out;
  if (rc == IDN2_OK && res) out = res;
  if (res) idn2_free(res);
  return out;
}

/// The standard's "domain to ASCII" with beStrict false. ASCII labels (the common case) are
/// lower-cased here; labels with non-ASCII or an "xn--" prefix go through libidn2 (UTS #46,
/// non-transitional).
std::optional<std::string> domain_to_ascii(std::string_view domain) {
  std::string out;
  out.reserve(domain.size());
  bool first = true;
  for (auto label : split_dots(domain)) {
    if (!first) out += '.';
    first = false;
    bool ascii = true;
    for (char c : label) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii && !(label.size() >= 4 && iequals(label.substr(0, 4), "xn--"))) {
      for (char c : label) out += to_lower(c);
      continue;
    }
    auto a_label = idn2_label(label);
    // libidn2 can emit an A-label it then refuses (e.g. "xn--\"a-9ia" from U+00E9 '"' 'a'):
    // accept a label only if its A-label is accepted too, so every href we emit re-parses.
    if (!a_label || (!ascii && idn2_label(*a_label) != a_label)) return std::nullopt;
    out += *a_label;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> parse_host(std::string_view in, bool opaque) {
  if (!in.empty() && in[0] == '[') {
    if (in.back() != ']') return std::nullopt;
    return parse_ipv6(in.substr(1, in.size() - 2));
  }
  if (opaque) {
    for (char c : in)
      if (forbidden_host_cp(static_cast<unsigned char>(c))) return std::nullopt;
    return encode(in, encode_set::c0);
  }
  auto ascii = domain_to_ascii(percent_decode(in));
  if (!ascii) return std::nullopt;
  for (char c : *ascii)
    if (forbidden_domain_cp(static_cast<unsigned char>(c))) return std::nullopt;
  if (ends_in_number(*ascii)) return parse_ipv4(*ascii);
  return ascii;
}

// ---------------------------------------------------------------------------------------------
// The URL record used while parsing: the path as a list of segments, as the standard has it.

struct record {
  std::string scheme, username, password;
  std::optional<std::string> host;
  int port = -1;
  std::vector<std::string> path;
  bool opaque = false;
  std::string opaque_path;
  std::optional<std::string> query, fragment;

  bool special() const { return is_special(scheme); }

  void shorten_path() {
    if (scheme == "file" && path.size() == 1 && is_normalized_drive_letter(path[0])) return;
    if (!path.empty()) path.pop_back();
  }
};

record from_url(const url& u) {
  record r;
  r.scheme = u.scheme;
  r.username = u.username;
  r.password = u.password;
  if (u.has_host) r.host = u.host;
  r.port = u.port;
  if (u.opaque_path) {
    r.opaque = true;
    r.opaque_path = u.path;
  } else if (!u.path.empty()) {
    size_t start = 1;
    for (;;) {
      size_t slash = u.path.find('/', start);
      if (slash == std::string::npos) {
        r.path.push_back(u.path.substr(start));
        break;
      }
      r.path.push_back(u.path.substr(start, slash - start));
      start = slash + 1;
    }
  }
  if (u.has_query) r.query = u.query;
  if (u.has_fragment) r.fragment = u.fragment;
  return r;
}

url to_url(record&& r) {
  url u;
  u.scheme = std::move(r.scheme);
  u.username = std::move(r.username);
  u.password = std::move(r.password);
  u.has_host = r.host.has_value();
  if (r.host) u.host = std::move(*r.host);
  u.port = r.port;
  u.opaque_path = r.opaque;
  if (r.opaque) {
    u.path = std::move(r.opaque_path);
  } else {
    for (auto& seg : r.path) {
      u.path += '/';
      u.path += seg;
    }
  }
  u.has_query = r.query.has_value();
  if (r.query) u.query = std::move(*r.query);
  u.has_fragment = r.fragment.has_value();
  if (r.fragment) u.fragment = std::move(*r.fragment);
  return u;
}

enum class state {
  scheme_start, scheme, no_scheme, special_relative_or_authority, path_or_authority, relative,
  relative_slash, special_authority_slashes, special_authority_ignore_slashes, authority, host,
  port, file, file_slash, file_host, path_start, path, opaque_path, query, fragment
};

std::string preprocess(std::string_view input) {
  size_t b = 0, e = input.size();
  while (b < e && static_cast<unsigned char>(input[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(input[e - 1]) <= 0x20) --e;
  std::string s;
  s.reserve(e - b);
  for (size_t i = b; i < e; ++i)
    if (input[i] != '\t' && input[i] != '\n' && input[i] != '\r') s += input[i];
  return s;
}

std::optional<record> basic_parse(const std::string& in, const record* base) {
  record u;
  state st = state::scheme_start;
  std::string buffer;
  bool at_sign_seen = false, inside_brackets = false, password_token_seen = false;
  const size_t n = in.size();
  constexpr int eof = -1;
  auto remaining_starts = [&](size_t p, char ch) { return p + 1 < n && in[p + 1] == ch; };

  // `p` may step to one before the start ("pointer - 1"), so it is signed.
  for (std::ptrdiff_t p = 0;; ++p) {
    const int c = p < static_cast<std::ptrdiff_t>(n) && p >= 0
                      ? static_cast<unsigned char>(in[static_cast<size_t>(p)])
                      : eof;
    const size_t up = static_cast<size_t>(p);
    const bool special = u.special();
    switch (st) {
      case state::scheme_start:
        if (c != eof && is_alpha(static_cast<char>(c))) {
          buffer += to_lower(static_cast<char>(c));
          st = state::scheme;
        } else {
          st = state::no_scheme;
          --p;
        }
        break;

      case state::scheme:
        if (c != eof && (is_alpha(static_cast<char>(c)) || is_digit(static_cast<char>(c)) ||
                         c == '+' || c == '-' || c == '.')) {
          buffer += to_lower(static_cast<char>(c));
        } else if (c == ':') {
          u.scheme = std::move(buffer);
          buffer.clear();
          if (u.scheme == "file") {
            st = state::file;
          } else if (u.special() && base && base->scheme == u.scheme) {
            st = state::special_relative_or_authority;
          } else if (u.special()) {
            st = state::special_authority_slashes;
          } else if (remaining_starts(up, '/')) {
            st = state::path_or_authority;
            ++p;
          } else {
            u.opaque = true;
            st = state::opaque_path;
          }
        } else {
          buffer.clear();
          st = state::no_scheme;
          p = -1;
        }
        break;

      case state::no_scheme:
        if (!base || (base->opaque && c != '#')) return std::nullopt;
        if (base->opaque && c == '#') {
          u.scheme = base->scheme;
          u.opaque = true;
          u.opaque_path = base->opaque_path;
          u.query = base->query;
          u.fragment = "";
          st = state::fragment;
        } else if (base->scheme != "file") {
          st = state::relative;
          --p;
        } else {
          st = state::file;
          --p;
        }
        break;

      case state::special_relative_or_authority:
        if (c == '/' && remaining_starts(up, '/')) {
          st = state::special_authority_ignore_slashes;
          ++p;
        } else {
          st = state::relative;
          --p;
        }
        break;

      case state::path_or_authority:
        if (c == '/') {
          st = state::authority;
        } else {
          st = state::path;
          --p;
        }
        break;

      case state::relative:
        u.scheme = base->scheme;
        if (c == '/' || (u.special() && c == '\\')) {
          st = state::relative_slash;
        } else {
          u.username = base->username;
          u.password = base->password;
          u.host = base->host;
          u.port = base->port;
          u.path = base->path;
          u.query = base->query;
          if (c == '?') {
            u.query = "";
            st = state::query;
          } else if (c == '#') {
            u.fragment = "";
            st = state::fragment;
          } else if (c != eof) {
            u.query.reset();
            u.shorten_path();
            st = state::path;
            --p;
          }
        }
        break;

      case state::relative_slash:
        if (special && (c == '/' || c == '\\')) {
          st = state::special_authority_ignore_slashes;
        } else if (c == '/') {
          st = state::authority;
        } else {
          u.username = base->username;
          u.password = base->password;
          u.host = base->host;
          u.port = base->port;
          st = state::path;
          --p;
        }
        break;

      case state::special_authority_slashes:
        st = state::special_authority_ignore_slashes;
        if (c == '/' && remaining_starts(up, '/')) ++p;
        else --p;
        break;

      case state::special_authority_ignore_slashes:
        if (c != '/' && c != '\\') {
          st = state::authority;
          --p;
        }
        break;

      case state::authority:
        if (c == '@') {
          if (at_sign_seen) buffer.insert(0, "%40");
          at_sign_seen = true;
          for (char b : buffer) {
            if (b == ':' && !password_token_seen) {
              password_token_seen = true;
              continue;
            }
            append_encoded(password_token_seen ? u.password : u.username, b,
                           encode_set::userinfo);
          }
          buffer.clear();
        } else if (c == eof || c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
          if (at_sign_seen && buffer.empty()) return std::nullopt;
          p -= static_cast<std::ptrdiff_t>(buffer.size()) + 1;
          buffer.clear();
          st = state::host;
        } else {
          buffer += static_cast<char>(c);
        }
        break;

      case state::host:
        if (c == ':' && !inside_brackets) {
          if (buffer.empty()) return std::nullopt;
          auto h = parse_host(buffer, !special);
          if (!h) return std::nullopt;
          u.host = std::move(*h);
          buffer.clear();
          st = state::port;
        } else if (c == eof || c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
          --p;
          if (special && buffer.empty()) return std::nullopt;
          auto h = parse_host(buffer, !special);
          if (!h) return std::nullopt;
          u.host = std::move(*h);
          buffer.clear();
          st = state::path_start;
        } else {
          if (c == '[') inside_brackets = true;
          if (c == ']') inside_brackets = false;
          buffer += static_cast<char>(c);
        }
        break;

      case state::port:
        if (c != eof && is_digit(static_cast<char>(c))) {
          buffer += static_cast<char>(c);
          if (buffer.size() > 7) {  // keep the value small; anything this long is > 65535
            size_t z = buffer.find_first_not_of('0');
            if (z != std::string::npos && buffer.size() - z > 5) return std::nullopt;
          }
        } else if (c == eof || c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
          if (!buffer.empty()) {
            long port = std::strtol(buffer.c_str(), nullptr, 10);
            if (port > 65535) return std::nullopt;
            u.port = static_cast<int>(port) == default_port(u.scheme) ? -1 : static_cast<int>(port);
            buffer.clear();
          }
          st = state::path_start;
          --p;
        } else {
          return std::nullopt;
        }
        break;

      case state::file:
        u.scheme = "file";
        u.host = "";
        if (c == '/' || c == '\\') {
          st = state::file_slash;
        } else if (base && base->scheme == "file") {
          u.host = base->host;
          u.path = base->path;
          u.query = base->query;
          if (c == '?') {
            u.query = "";
            st = state::query;
          } else if (c == '#') {
            u.fragment = "";
            st = state::fragment;
          } else if (c != eof) {
            u.query.reset();
            if (!starts_with_drive_letter(std::string_view(in).substr(up))) u.shorten_path();
            else u.path.clear();
            st = state::path;
            --p;
          }
        } else {
          st = state::path;
          --p;
        }
        break;

      case state::file_slash:
        if (c == '/' || c == '\\') {
          st = state::file_host;
        } else {
          if (base && base->scheme == "file") {
            u.host = base->host;
            if (!starts_with_drive_letter(std::string_view(in).substr(up)) &&
                !base->path.empty() && is_normalized_drive_letter(base->path[0]))
              u.path.push_back(base->path[0]);
          }
          st = state::path;
          --p;
        }
        break;

      case state::file_host:
        if (c == eof || c == '/' || c == '\\' || c == '?' || c == '#') {
          --p;
          if (is_drive_letter(buffer)) {
            st = state::path;  // the buffer carries over into the path state
          } else if (buffer.empty()) {
            u.host = "";
            st = state::path_start;
          } else {
            auto h = parse_host(buffer, !special);
            if (!h) return std::nullopt;
            if (*h == "localhost") h->clear();
            u.host = std::move(*h);
            buffer.clear();
            st = state::path_start;
          }
        } else {
          buffer += static_cast<char>(c);
        }
        break;

      case state::path_start:
        if (special) {
          st = state::path;
          if (c != '/' && c != '\\') --p;
        } else if (c == '?') {
          u.query = "";
          st = state::query;
        } else if (c == '#') {
          u.fragment = "";
          st = state::fragment;
        } else if (c != eof) {
          st = state::path;
          if (c != '/') --p;
        }
        break;

      case state::path:
        if (c == eof || c == '/' || (special && c == '\\') || c == '?' || c == '#') {
          const bool slash = c == '/' || (special && c == '\\');
          if (is_double_dot(buffer)) {
            u.shorten_path();
            if (!slash) u.path.emplace_back();
          } else if (is_single_dot(buffer) && !slash) {
            u.path.emplace_back();
          } else if (!is_single_dot(buffer)) {
            if (u.scheme == "file" && u.path.empty() && is_drive_letter(buffer)) buffer[1] = ':';
            u.path.push_back(std::move(buffer));
          }
          buffer.clear();
          if (c == '?') {
            u.query = "";
            st = state::query;
          } else if (c == '#') {
            u.fragment = "";
            st = state::fragment;
          }
        } else {
          append_encoded(buffer, static_cast<char>(c), encode_set::path);
        }
        break;

      case state::opaque_path:
        if (c == '?') {
          u.query = "";
          st = state::query;
        } else if (c == '#') {
          u.fragment = "";
          st = state::fragment;
        } else if (c == ' ') {
          if (up + 1 < n && (in[up + 1] == '?' || in[up + 1] == '#')) u.opaque_path += "%20";
          else u.opaque_path += ' ';
        } else if (c != eof) {
          append_encoded(u.opaque_path, static_cast<char>(c), encode_set::c0);
        }
        break;

      case state::query:
        if (c == '#' || c == eof) {
          *u.query += encode(buffer, special ? encode_set::special_query : encode_set::query);
          buffer.clear();
          if (c == '#') {
            u.fragment = "";
            st = state::fragment;
          }
        } else {
          buffer += static_cast<char>(c);
        }
        break;

      case state::fragment:
        if (c != eof) append_encoded(*u.fragment, static_cast<char>(c), encode_set::fragment);
        break;
    }
    if (c == eof && p >= static_cast<std::ptrdiff_t>(n)) break;
  }
  return u;
}

std::string serialize(const url& u, bool with_fragment) {
  std::string out;
  out.reserve(u.scheme.size() + u.username.size() + u.password.size() + u.host.size() + u.path.size() +
              u.query.size() + (with_fragment ? u.fragment.size() : 0) + 16);  // + delimiters and port
  out += u.scheme;
  out += ':';
  if (u.has_host) {
    out += "//";
    if (!u.username.empty() || !u.password.empty()) {
      out += u.username;
      if (!u.password.empty()) {
        out += ':';
        out += u.password;
      }
      out += '@';
    }
    out += u.host;
    if (u.port >= 0) {
      out += ':';
      out += std::to_string(u.port);
    }
  } else if (!u.opaque_path && u.path.size() > 1 && u.path[0] == '/' && u.path[1] == '/') {
    out += "/.";
  }
  out += u.path;
  if (u.has_query) {
    out += '?';
    out += u.query;
  }
  if (with_fragment && u.has_fragment) {
    out += '#';
    out += u.fragment;
  }
  return out;
}

bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/// Decodes escapes of unreserved characters and upper-cases the hex digits of the others.
std::string normalize_escapes(std::string_view s, bool decode = true) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      char d = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      // A decoded hex digit after a stray '%' ("%a%41") would form a new escape: keep it encoded.
      const size_t m = out.size();
      bool forms_escape = is_hex(d) && ((m >= 1 && out[m - 1] == '%') ||
                                        (m >= 2 && out[m - 2] == '%' && is_hex(out[m - 1])));
      if (decode && is_unreserved(d) && !forms_escape) {
        out += d;
      } else {
        out += '%';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 1])));
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 2])));
      }
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool url::special() const { return is_special(scheme); }

int url::effective_port() const { return port >= 0 ? port : default_port(scheme); }

std::string url::href() const { return serialize(*this, true); }

std::string url::host_key() const {
  std::string k;
  k.reserve(scheme.size() + host.size() + 10);
  k += scheme;
  k += "://";
  k += host;
  k += ':';
  k += std::to_string(effective_port());
  return k;
}

std::string url::request_target() const {
  std::string t = path.empty() ? "/" : path;
  if (has_query) {
    t += '?';
    t += query;
  }
  return t;
}

bool operator==(const url& a, const url& b) {
  return a.scheme == b.scheme && a.username == b.username && a.password == b.password &&
         a.host == b.host && a.has_host == b.has_host && a.port == b.port && a.path == b.path &&
         a.opaque_path == b.opaque_path && a.has_query == b.has_query && a.query == b.query &&
         a.has_fragment == b.has_fragment && a.fragment == b.fragment;
}
bool operator!=(const url& a, const url& b) { return !(a == b); }

namespace {

// Characters that parsing leaves as they are in a special URL's path and query: never
// percent-encoded there, never trimmed or removed by preprocessing, not '\\' (a slash in special
// URLs) and not '#' (the fragment is cut off first). '%' is kept too (normalization then decodes
// or upper-cases the escapes).
struct plain_table {
  bool is[256] = {};
  constexpr plain_table() {
    for (int c = 0; c < 256; ++c)
      is[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    for (char c : std::string_view("-._~!$&()*+,;=:@/?%")) is[static_cast<unsigned char>(c)] = true;
  }
};
constexpr plain_table plain_chars;
bool plain_char(char c) { return plain_chars.is[static_cast<unsigned char>(c)]; }

// The value of at most 9 ASCII digits.
int decimal(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// A host name the host parser returns unchanged: lower-case ASCII letters, digits and '-' in
// non-empty labels, no "xn--" label (IDNA), and not ending in a number unless it is a canonical
// dotted-decimal IPv4 address (four labels 0-255 without leading zeros).
bool plain_host(std::string_view h) {
  if (h.empty()) return false;
  std::string_view last;
  bool all_digit_labels = true;
  int labels = 0;
  for (size_t i = 0;;) {
    const size_t dot = h.find('.', i);
    const std::string_view label = h.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    if (label.empty() || label.substr(0, 4) == "xn--") return false;
    bool digits = true;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-')) return false;
      digits = digits && is_digit(c);
    }
    if (digits && (label.size() > 3 || (label.size() > 1 && label[0] == '0') || decimal(label) > 255))
      digits = false;  // not a canonical octet
    all_digit_labels = all_digit_labels && digits;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  if (!is_digit(last[0])) return true;  // a name: the last label cannot be a number
  return labels == 4 && all_digit_labels;
}

// "host[:port]" of a special URL whose host is plain; sets host and port (-1: none or default).
bool plain_authority(std::string_view a, url& u) {
  const size_t colon = a.find(':');
  if (!plain_host(a.substr(0, colon))) return false;
  u.host = std::string(a.substr(0, colon));
  u.port = -1;
  if (colon == std::string_view::npos) return true;
  std::string_view digits = a.substr(colon + 1);
  for (char c : digits)
    if (!is_digit(c)) return false;
  while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
  if (digits.empty()) return true;  // "host:" has no port
  if (digits.size() > 5) return false;
  const int port = decimal(digits);
  if (port > 65535) return false;  // a parse failure: left to the full parser to say so
  if (port != default_port(u.scheme)) u.port = port;
  return true;
}

// The path state over `p` (segments separated by '/') appended to `path` ("/a/b" form), each
// segment as normalization leaves it.
void append_plain_path(std::string& path, std::string_view p) {
  for (size_t i = 0;;) {
    const size_t slash = p.find('/', i);
    const bool last = slash == std::string_view::npos;
    const std::string_view seg = p.substr(i, last ? std::string_view::npos : slash - i);
    if (is_double_dot(seg)) {
      path.erase(std::min(path.size(), path.rfind('/')));
      if (last) path += '/';
    } else if (is_single_dot(seg)) {
      if (last) path += '/';
    } else {
      path += '/';
      if (seg.find('%') == std::string_view::npos)
        path += seg;
      else
        path += normalize_escapes(seg, true);
    }
    if (last) return;
    i = slash + 1;
  }
}

std::string plain_query(std::string_view q) {
  return q.find('%') == std::string_view::npos ? std::string(q) : normalize_escapes(q, true);
}

// The path (appended to u.path) and query of a plain reference's "path[?query]".
void plain_path_and_query(url& u, std::string_view rest) {
  const size_t q = rest.find('?');
  append_plain_path(u.path, rest.substr(0, q));
  if (q != std::string_view::npos) {
    u.has_query = true;
    u.query = plain_query(rest.substr(q + 1));
  }
}

bool plain_url_text(std::string_view s) {
  for (char c : s)
    if (!plain_char(c)) return false;
  return true;
}

bool has_dot_segment(std::string_view path) {
  for (size_t i = 0; i < path.size();) {
    size_t end = path.find('/', i + 1);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(i + 1, end - i - 1);
    if (is_single_dot(seg) || is_double_dot(seg)) return true;
    i = end;
  }
  return false;
}

// "http(s)://authority[/path][?query]" (the scheme in any case) or, when `inherited` is given,
// "//authority..." with that scheme: u gets scheme, host, port and path/query as the parser
// and normalization leave them. False when `s` is not such a URL with a plain authority.
bool plain_authority_url(std::string_view s, const std::string* inherited, url& u) {
  const bool http = iequals(s.substr(0, 7), "http://"), https = iequals(s.substr(0, 8), "https://");
  if (!http && !https && !(inherited && s.substr(0, 2) == "//")) return false;
  u.scheme = http ? "http" : https ? "https" : *inherited;
  u.has_host = true;
  const size_t start = http ? 7 : https ? 8 : 2;
  size_t end = s.find_first_of("/?", start);
  if (end == std::string_view::npos) end = s.size();
  if (!plain_authority(s.substr(start, end - start), u)) return false;
  std::string_view rest = s.substr(end);
  if (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);  // the path start state's '/'
  plain_path_and_query(u, rest);
  return true;
}

}  // namespace

std::optional<url> parse_url(std::string_view input, const url* base) {
  // An absolute http(s) URL of plain characters without escapes or fragment: what the parser
  // would give is its normalized form, which the plain path builds directly.
  if (!base && input.find_first_of("%#") == std::string_view::npos && plain_url_text(input)) {
    url u;
    if (plain_authority_url(input, nullptr, u)) return u;
  }
  std::optional<record> b;
  if (base) b = from_url(*base);
  auto r = basic_parse(preprocess(input), b ? &*b : nullptr);
  if (!r) return std::nullopt;
  return to_url(std::move(*r));
}

struct url_resolver::prepared {
  record base;
  bool plain = false;  // resolve_plain applies: http(s), a plain host, no userinfo, plain path/query
  url b;               // normalized(base), when plain
  std::string dir;     // its path without the last segment: where relative paths start
};

url_resolver::url_resolver(const url& base) {
  auto p = std::make_unique<prepared>();
  p->base = from_url(base);
  p->plain = (base.scheme == "http" || base.scheme == "https") && base.has_host &&
             base.username.empty() && base.password.empty() && !base.opaque_path &&
             !base.path.empty() && base.path[0] == '/' && plain_host(base.host) &&
             base.port != default_port(base.scheme) && plain_url_text(base.path) &&
             !has_dot_segment(base.path) &&
             (!base.has_query || plain_url_text(base.query));
  if (p->plain) {
    p->b = normalized(base);  // segment by segment, as normalizing a resolved reference does
    p->dir = p->b.path.substr(0, p->b.path.rfind('/'));
  }
  base_ = std::move(p);
}
url_resolver::~url_resolver() = default;
url_resolver::url_resolver(url_resolver&&) noexcept = default;
url_resolver& url_resolver::operator=(url_resolver&&) noexcept = default;

std::optional<url> url_resolver::resolve(std::string_view input) const {
  auto r = basic_parse(preprocess(input), &base_->base);
  if (!r) return std::nullopt;
  return to_url(std::move(*r));
}

std::optional<url> url_resolver::resolve_plain(std::string_view input) const {
  const prepared& pb = *base_;
  if (!pb.plain) return std::nullopt;
  const std::string_view s = input.substr(0, input.find('#'));  // the fragment is dropped
  if (!plain_url_text(s)) return std::nullopt;
  url u;
  if (s.substr(0, 2) == "//" || (!s.empty() && is_alpha(s[0]) && s.find(':') != std::string_view::npos)) {
    if (!plain_authority_url(s, &pb.b.scheme, u)) return std::nullopt;
    return u;
  }
  u.scheme = pb.b.scheme;
  u.has_host = true;
  u.host = pb.b.host;
  u.port = pb.b.port;
  if (s.empty() || s[0] == '?') {  // the base's path, and its query unless there is one here
    u.path = pb.b.path;
    u.has_query = s.empty() ? pb.b.has_query : true;
    u.query = s.empty() ? pb.b.query : plain_query(s.substr(1));
    return u;
  }
  const size_t first = s.find_first_of(":/?");
  if (first != std::string_view::npos && s[first] == ':') return std::nullopt;  // maybe a scheme
  if (s[0] == '/') {
    plain_path_and_query(u, s.substr(1));
  } else {
    u.path = pb.dir;
    plain_path_and_query(u, s);
  }
  return u;
}

std::optional<url> url_resolver::resolve_normalized(std::string_view input) const {
  if (auto u = resolve_plain(input)) return u;
  auto u = resolve(input);
  if (!u) return std::nullopt;
  return normalized(std::move(*u));
}

url normalized(url n) {
  for (char& c : n.scheme) c = to_lower(c);
  for (char& c : n.host) c = to_lower(c);
  if (n.port == default_port(n.scheme)) n.port = -1;
  n.has_fragment = false;
  n.fragment.clear();
  if (!n.opaque_path) {
    // Dot segments (a parsed URL has none; a hand-built one may).
    std::vector<std::string> out;
    size_t start = n.path.empty() ? 0 : 1;
    bool trailing = false;
    while (start <= n.path.size() && !n.path.empty()) {
      size_t slash = n.path.find('/', start);
      std::string seg = n.path.substr(start, slash == std::string::npos ? std::string::npos
                                                                         : slash - start);
      trailing = slash == std::string::npos;
      if (is_double_dot(seg)) {
        if (!out.empty()) out.pop_back();
        if (trailing) out.emplace_back();
      } else if (is_single_dot(seg)) {
        if (trailing) out.emplace_back();
      } else {
        out.push_back(std::move(seg));
      }
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    n.path.clear();
    // In file: paths a decoded letter could form a drive letter ("%41|"): only upper-case there.
    const bool decode = n.scheme != "file";
    for (auto& seg : out) n.path += "/" + normalize_escapes(seg, decode);
    if (n.path.empty() && n.special()) n.path = "/";
  } else {
    n.path = normalize_escapes(n.path);
  }
  if (n.has_query) n.query = normalize_escapes(n.query);
  return n;
}

std::string normalize(const url& u) { return serialize(normalized(u), false); }

std::optional<std::string> normalize(std::string_view input) {
  auto u = parse_url(input);
  if (!u) return std::nullopt;
  return normalize(*u);
}

}  // namespace crawld::parse
