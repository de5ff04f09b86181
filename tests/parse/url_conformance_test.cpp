// Runs the web-platform-tests URL suite (tests/data/urltestdata.json) against parse_url.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "parse/url.hpp"
#include "parse/utf8.hpp"
#include "tests/parse/url_fields.hpp"

namespace {

// A minimal JSON reader: enough for the test data (no error recovery; throws on malformed input,
// which only a broken data file can trigger).
struct json {
  enum class kind { null, boolean, number, string, array, object } k = kind::null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<json> arr;
  std::vector<std::pair<std::string, json>> obj;

  const json* get(const std::string& key) const {
    for (auto& [k2, v] : obj)
      if (k2 == key) return &v;
    return nullptr;
  }
};

class json_reader {
 public:
  explicit json_reader(std::string text) : s_(std::move(text)) {}

  json parse() {
    json v = value();
    ws();
    if (i_ != s_.size()) fail("trailing data");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(i_));
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool literal(const char* word) {
    size_t len = std::char_traits<char>::length(word);
    if (s_.compare(i_, len, word) != 0) return false;
    i_ += len;
    return true;
  }

  json value() {
    json v;
    char c = peek();
    if (c == '{') {
      v.k = json::kind::object;
      ++i_;
      if (peek() == '}') { ++i_; return v; }
      for (;;) {
        std::string key = string();
        expect(':');
        v.obj.emplace_back(std::move(key), value());
        if (peek() == ',') { ++i_; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.k = json::kind::array;
      ++i_;
      if (peek() == ']') { ++i_; return v; }
      for (;;) {
        v.arr.push_back(value());
        if (peek() == ',') { ++i_; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.k = json::kind::string;
      v.str = string();
      return v;
    }
    if (literal("null")) return v;
    if (literal("true")) { v.k = json::kind::boolean; v.b = true; return v; }
    if (literal("false")) { v.k = json::kind::boolean; return v; }
    size_t end = i_;
    while (end < s_.size() && std::string("+-0123456789.eE").find(s_[end]) != std::string::npos)
      ++end;
    if (end == i_) fail("unexpected character");
    v.k = json::kind::number;
    v.num = std::stod(s_.substr(i_, end - i_));
    i_ = end;
    return v;
  }

  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("bad hex digit");
    }
    return v;
  }



  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') { out += c; continue; }
      if (i_ >= s_.size()) fail("unterminated escape");
      char e = s_[i_++];
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
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate: pair it with a following low one, else it is lone.
            if (s_.compare(i_, 2, "\\u") == 0) {
              size_t save = i_;
              i_ += 2;
              unsigned lo = hex4();
              if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              } else {
                i_ = save;
                cp = 0xFFFD;
              }
            } else {
              cp = 0xFFFD;
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;  // lone low surrogate: a USVString gets U+FFFD, as browsers pass it
          }
          crawld::parse::append_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }

  std::string s_;
  size_t i_ = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> getters(const crawld::parse::url& u) {
  std::map<std::string, std::string> g;
  g["href"] = u.href();
  g["protocol"] = u.scheme + ":";
  g["username"] = u.username;
  g["password"] = u.password;
  g["hostname"] = u.host;
  g["port"] = u.port >= 0 ? std::to_string(u.port) : "";
  g["host"] = u.host + (u.port >= 0 ? ":" + g["port"] : "");
  g["pathname"] = u.path;
  g["search"] = u.has_query && !u.query.empty() ? "?" + u.query : "";
  g["hash"] = u.has_fragment && !u.fragment.empty() ? "#" + u.fragment : "";
  return g;
}

bool special_scheme(const std::string& s) {
  return s == "http" || s == "https" || s == "ws" || s == "wss" || s == "ftp" || s == "file";
}

/// The scheme an input names, if it starts with one ("HTTP:..." -> "http").
std::string leading_scheme(const std::string& input) {
  size_t b = 0;
  while (b < input.size() && static_cast<unsigned char>(input[b]) <= 0x20) ++b;
  std::string s;
  for (size_t i = b; i < input.size(); ++i) {
    char c = input[i];
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c == ':') return s;
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else
      return "";
  }
  return "";
}

struct group_stats {
  int total = 0, passed = 0;
  double rate() const { return total ? 100.0 * passed / total : 100.0; }
};

TEST(url_conformance, wpt_urltestdata) {
  json root = json_reader(read_file(CRAWLD_TEST_DATA "/urltestdata.json")).parse();
  ASSERT_EQ(root.k, json::kind::array);

  group_stats special_group, other_group;
  std::vector<std::string> failures;
  static const char* fields[] = {"href",     "protocol", "username", "password", "host",
                                 "hostname", "port",     "pathname", "search",   "hash"};
  for (const json& t : root.arr) {
    if (t.k != json::kind::object) continue;
    const std::string input = t.get("input")->str;
    const json* base_j = t.get("base");
    const bool has_base = base_j && base_j->k == json::kind::string;
    const json* fail_j = t.get("failure");
    const bool expect_failure = fail_j && fail_j->k == json::kind::boolean && fail_j->b;

    std::optional<crawld::parse::url> base;
    if (has_base) base = crawld::parse::parse_url(base_j->str);

    // Group (a): the input names a special scheme, or is relative to a special base.
    std::string scheme = leading_scheme(input);
    bool in_special = special_scheme(scheme) ||
                      (scheme.empty() && has_base && base && base->special());
    group_stats& g = in_special ? special_group : other_group;
    ++g.total;

    std::string why;
    if (has_base && !base) {
      why = "base failed to parse: " + base_j->str;
    } else {
      auto u = crawld::parse::parse_url(input, base ? &*base : nullptr);
      if (expect_failure) {
        if (u) why = "expected failure, got " + u->href();
      } else if (!u) {
        why = "unexpected failure";
      } else {
        auto got = getters(*u);
        for (const char* f : fields) {
          const json* want = t.get(f);
          if (want && want->k == json::kind::string && want->str != got[f]) {
            why += std::string(f) + ": want '" + want->str + "' got '" + got[f] + "'; ";
          }
        }
      }
    }
    if (why.empty()) {
      ++g.passed;
    } else {
      failures.push_back("[" + std::string(in_special ? "a" : "b") + "] input='" + input +
                         "' base='" + (has_base ? base_j->str : "null") + "': " + why);
    }
  }

  std::cout << "URL suite: (a) special/relative-to-special " << special_group.passed << "/"
            << special_group.total << " = " << special_group.rate() << "%;  (b) other "
            << other_group.passed << "/" << other_group.total << " = " << other_group.rate()
            << "%\n";
  for (size_t i = 0; i < failures.size() && i < 20; ++i) std::cout << "  " << failures[i] << "\n";

  EXPECT_GT(special_group.total + other_group.total, 800);
  // Achieved: (a) 601/611 (the misses are IDNA cases where libidn2's IDNA2008 rules reject
  // labels UTS #46 admits, e.g. U+2603), (b) 280/280. Asserted with a small margin.
  EXPECT_GE(special_group.rate(), 97.5);
  EXPECT_GE(other_group.rate(), 99.0);
}

}  // namespace

namespace {

// Calls fn(url, input) for every input of the suite that parses (against its base, if any);
// returns how many did.
template <class F>
int for_each_suite_url(F&& fn) {
  json root = json_reader(read_file(CRAWLD_TEST_DATA "/urltestdata.json")).parse();
  int parsed = 0;
  for (const json& t : root.arr) {
    if (t.k != json::kind::object) continue;
    const json* base_j = t.get("base");
    std::optional<crawld::parse::url> base;
    if (base_j && base_j->k == json::kind::string) {
      base = crawld::parse::parse_url(base_j->str);
      if (!base) continue;
    }
    auto u = crawld::parse::parse_url(t.get("input")->str, base ? &*base : nullptr);
    if (!u) continue;
    ++parsed;
    fn(*u, t.get("input")->str);
  }
  return parsed;
}

// Serialization is stable: every URL the suite parses re-parses to the same href, and
// normalize() is idempotent on it (the dedup key must not drift between hops).
TEST(url_conformance, href_reparses_and_normalize_is_idempotent) {
  const int checked = for_each_suite_url([](const crawld::parse::url& u, const std::string& input) {
    auto again = crawld::parse::parse_url(u.href());
    ASSERT_TRUE(again) << u.href();
    EXPECT_EQ(again->href(), u.href());
    std::string n = crawld::parse::normalize(u);
    auto n2 = crawld::parse::normalize(n);
    ASSERT_TRUE(n2) << n;
    EXPECT_EQ(*n2, n) << "input: " << input;
  });
  EXPECT_GT(checked, 500);
}

// Every URL the suite parses: the normalized struct is exactly what parsing the normalized string
// gives, so a followed link's parsed form can be used without parsing it again.
TEST(url_conformance, normalized_struct_matches_reparse_of_normalize) {
  const int checked = for_each_suite_url([](const crawld::parse::url& u, const std::string& input) {
    EXPECT_EQ(crawld::parse::tests::normalized_reparse_difference(u), "") << "input: " << input;
  });
  EXPECT_GT(checked, 500);
}

}  // namespace
