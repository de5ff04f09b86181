#include "parse/sitemap.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>
#include <utility>

#include "parse/url.hpp"
#include "parse/utf8.hpp"

namespace crawld::parse {

const char* to_string(sitemap_kind k) {
  switch (k) {
    case sitemap_kind::urlset: return "urlset";
    case sitemap_kind::index: return "index";
    case sitemap_kind::text: return "text";
    case sitemap_kind::unknown: return "unknown";
  }
  return "unknown";
}

namespace {

constexpr std::size_t inflate_chunk = 64 * 1024;
/// zlib counts in uInt: feed the input in slices no larger than this.
constexpr std::size_t max_input_slice = std::size_t{1} << 30;

bool is_gzip(std::string_view s) {
  return s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x1f &&
         static_cast<unsigned char>(s[1]) == 0x8b;
}

struct inflated {
  std::string data;
  bool cut = false;  ///< stopped at the byte cap, or the input ended inside a gzip member
};

/// Inflates the gzip member(s) of `in`, keeping at most `cap` bytes of output. Work is bounded by
/// the cap too: inflation stops as soon as one byte beyond it has been produced.
result<inflated> gunzip(std::string_view in, std::size_t cap) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return make_error("cannot inflate gzip sitemap: zlib init failed");
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&zs};

  inflated out;
  const auto buf = std::make_unique<unsigned char[]>(inflate_chunk);
  std::size_t in_pos = 0;
  auto feed = [&] {
    if (zs.avail_in != 0 || in_pos >= in.size()) return;
    const std::size_t n = std::min(in.size() - in_pos, max_input_slice);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + in_pos));
    zs.avail_in = static_cast<uInt>(n);
    in_pos += n;
  };

  for (;;) {
    feed();
    const std::size_t room = cap - out.data.size();
    // One byte beyond the room tells "more than the cap" from "exactly the cap".
    const std::size_t want = room >= inflate_chunk ? inflate_chunk : room + 1;
    zs.next_out = buf.get();
    zs.avail_out = static_cast<uInt>(want);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t got = want - zs.avail_out;
    if (got > room) {  // more output than the cap allows: keep what fits, stop inflating
      out.data.append(reinterpret_cast<const char*>(buf.get()), room);
      out.cut = true;
      return out;
    }
    out.data.append(reinterpret_cast<const char*>(buf.get()), got);
    if (rc == Z_OK) continue;
    if (rc == Z_STREAM_END) {
      feed();
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        if (inflateReset(&zs) != Z_OK) return make_error("corrupt gzip sitemap: cannot reset stream");
        continue;  // another member follows
      }
      return out;  // anything after the last member is ignored, as gzip(1) does
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos >= in.size()) {
      out.cut = true;  // the input ended inside a member: keep what it held
      return out;
    }
    std::string msg = "corrupt gzip sitemap: ";
    msg += zs.msg ? zs.msg : (rc == Z_MEM_ERROR ? "out of memory" : "inflate failed");
    return make_error(std::move(msg));
  }
}

bool xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool any_space(char c) { return xml_space(c) || c == '\f' || c == '\v'; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && any_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && any_space(s.back())) s.remove_suffix(1);
  return s;
}

bool equals_ci(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (ascii_lower(a[k]) != lower_b[k]) return false;
  return true;
}

/// Turns candidate entries into normalized URLs: validates, dedups, counts, applies `max_urls`.
class collector {
 public:
  collector(sitemap& out, std::size_t max_urls) : out_(out), max_urls_(max_urls) {}

  /// Takes one entry as written (untrimmed). False when parsing must stop (URL cap exceeded).
  bool add(std::string_view entry) {
    auto u = parse_url(trim(entry));
    if (!u || (u->scheme != "http" && u->scheme != "https")) {
      ++out_.invalid;
      return true;
    }
    ++valid_;
    // The candidate goes into `urls` first so the seen-set can hold indexes, not copies.
    const std::size_t k = out_.urls.size();
    out_.urls.push_back(normalize(*u));
    if (!seen_.insert(k).second) {
      out_.urls.pop_back();  // a duplicate
      return true;
    }
    if (k >= max_urls_) {
      seen_.erase(k);
      out_.urls.pop_back();
      out_.truncated = true;
      return false;
    }
    return true;
  }

  /// Entries that were http(s) URLs, duplicates and refused ones included.
  std::size_t valid() const { return valid_; }

 private:
  sitemap& out_;
  std::size_t max_urls_;
  std::size_t valid_ = 0;
  struct hash_at {
    const std::vector<std::string>* urls;
    std::size_t operator()(std::size_t i) const { return std::hash<std::string>{}((*urls)[i]); }
  };
  struct equal_at {
    const std::vector<std::string>* urls;
    bool operator()(std::size_t a, std::size_t b) const { return (*urls)[a] == (*urls)[b]; }
  };
  /// Indexes into out_.urls.
  std::unordered_set<std::size_t, hash_at, equal_at> seen_{16, hash_at{&out_.urls}, equal_at{&out_.urls}};
};


int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes the character reference starting at `s[0] == '&'` into `out`. Returns the bytes it
/// used, or 0 when it is not a well-formed predefined or numeric reference (the caller keeps '&').
std::size_t decode_reference(std::string_view s, std::string& out) {
  static constexpr std::pair<std::string_view, char> named[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  for (const auto& [ref, c] : named)
    if (s.substr(0, ref.size()) == ref) {
      out += c;
      return ref.size();
    }
  if (s.size() < 4 || s[1] != '#') return 0;
  const bool hex = s[2] == 'x' || s[2] == 'X';
  std::size_t k = hex ? 3 : 2;
  const std::size_t first = k;
  std::uint32_t cp = 0;
  bool too_big = false;
  for (; k < s.size(); ++k) {
    const int d = hex ? hex_value(s[k]) : ((s[k] >= '0' && s[k] <= '9') ? s[k] - '0' : -1);
    if (d < 0) break;
    cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
    if (cp > 0x10FFFF) {
      too_big = true;
      cp = 0x110000;  // keep the accumulator bounded whatever the digit count
    }
  }
  if (k == first || k >= s.size() || s[k] != ';') return 0;
  if (too_big || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  parse::append_utf8(out, cp);
  return k + 1;
}

/// Appends character data with references decoded.
void append_text(std::string_view text, std::string& out) {
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    if (amp == std::string_view::npos) {
      out.append(text);
      return;
    }
    out.append(text.substr(0, amp));
    text.remove_prefix(amp);
    // A reference is short: bounding the look-ahead keeps "&&&&..." linear.
    const std::size_t used = decode_reference(text.substr(0, 16), out);
    if (used == 0) {
      out += '&';
      text.remove_prefix(1);
    } else {
      text.remove_prefix(used);
    }
  }
}

bool name_char(char c) {
  return !(xml_space(c) || c == '>' || c == '/' || c == '<' || c == '=' || c == '"' || c == '\'');
}

bool name_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || u >= 0x80;
}

std::string_view local_name(std::string_view name) {
  const std::size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

/// The tolerant linear XML scan. Element nesting is tracked by depth alone (no stack), so deep
/// nesting costs nothing and mismatched end tags only shift depths.
class xml_scanner {
 public:
  xml_scanner(std::string_view doc, bool cut, sitemap& out, collector& urls)
      : s_(doc), cut_(cut), out_(out), urls_(urls) {}

  void run() {
    const std::size_t n = s_.size();
    while (i_ < n) {
      std::size_t lt = s_.find('<', i_);
      if (lt == std::string_view::npos) lt = n;
      if (capturing_) append_text(s_.substr(i_, lt - i_), value_);
      i_ = lt;
      if (i_ < n && !markup()) return;
    }
    // A <loc> open at the end counts, unless the end is where the byte cap cut the document.
    if (capturing_ && !cut_) finish_loc();
  }

 private:
  bool at(std::string_view prefix) const { return s_.substr(i_, prefix.size()) == prefix; }

  /// Moves past the next `terminator` at or after `from`, or to the end. Returns where it is.
  std::size_t skip_past(std::size_t from, std::string_view terminator) {
    const std::size_t end = s_.find(terminator, std::min(from, s_.size()));
    i_ = end == std::string_view::npos ? s_.size() : end + terminator.size();
    return end == std::string_view::npos ? s_.size() : end;
  }

  std::size_t name_end(std::size_t from) const {
    std::size_t k = from;
    while (k < s_.size() && name_char(s_[k])) ++k;
    return k;
  }

  /// Handles the markup at `s_[i_] == '<'`. False when scanning must stop.
  bool markup() {
    if (at("<!--")) {
      skip_past(i_ + 4, "-->");
      return true;
    }
    if (at("<![CDATA[")) {
      const std::size_t from = i_ + 9;
      const std::size_t end = skip_past(from, "]]>");
      if (capturing_) value_.append(s_.substr(from, end - from));
      return true;
    }
    if (at("<?")) {
      skip_past(i_ + 2, "?>");
      return true;
    }
    if (at("<!")) {  // DOCTYPE and other declarations; an internal subset is not interpreted
      skip_past(i_ + 2, ">");
      return true;
    }
    if (at("</")) {
      const std::size_t name_from = i_ + 2;
      const std::size_t name_to = name_end(name_from);
      skip_past(name_to, ">");
      if (unfinished_at_cut()) return false;
      return end_tag(local_name(s_.substr(name_from, name_to - name_from)));
    }
    if (i_ + 1 < s_.size() && name_start(s_[i_ + 1])) {
      const std::size_t name_from = i_ + 1;
      const std::size_t name_to = name_end(name_from);
      // Attributes: skip to the '>' that is not inside a quoted value.
      std::size_t k = name_to;
      while (k < s_.size() && s_[k] != '>') {
        if (s_[k] == '"' || s_[k] == '\'') {
          const std::size_t q = s_.find(s_[k], k + 1);
          k = q == std::string_view::npos ? s_.size() : q + 1;
        } else {
          ++k;
        }
      }
      const bool empty = k < s_.size() && k > name_to && s_[k - 1] == '/';
      i_ = k < s_.size() ? k + 1 : k;
      if (unfinished_at_cut()) return false;
      return start_tag(local_name(s_.substr(name_from, name_to - name_from)), empty);
    }
    // A '<' that starts no markup is text.
    if (capturing_) value_ += '<';
    ++i_;
    return true;
  }

  /// A tag without its '>' where the byte cap cut the document: the document ends here, and a
  /// <loc> being read is incomplete.
  bool unfinished_at_cut() {
    if (!cut_ || i_ < s_.size() || s_.back() == '>') return false;
    capturing_ = false;
    return true;
  }

  bool start_tag(std::string_view name, bool empty) {
    if (!root_seen_) {
      root_seen_ = true;
      if (equals_ci(name, "urlset")) {
        out_.kind = sitemap_kind::urlset;
        entry_ = "url";
      } else if (equals_ci(name, "sitemapindex")) {
        out_.kind = sitemap_kind::index;
        entry_ = "sitemap";
      } else {
        return false;  // not a sitemap: nothing more to learn
      }
      if (!empty) ++depth_;
      return true;
    }
    if (capturing_ && !finish_loc()) return false;  // any element tag ends a <loc>'s value
    if (equals_ci(name, entry_)) {
      if (!empty) entry_depth_ = ++depth_;
      return true;
    }
    if (equals_ci(name, "loc") && entry_depth_ != 0 && depth_ == entry_depth_) {
      if (empty) return urls_.add("");
      ++depth_;
      capturing_ = true;
      value_.clear();
      return true;
    }
    if (!empty) ++depth_;
    return true;
  }

  bool end_tag(std::string_view name) {
    if (capturing_ && !finish_loc()) return false;
    if (depth_ > 0) --depth_;
    if (entry_depth_ != 0 && (depth_ < entry_depth_ || equals_ci(name, entry_))) entry_depth_ = 0;
    return true;
  }

  bool finish_loc() {
    capturing_ = false;
    return urls_.add(value_);
  }

  std::string_view s_;
  bool cut_;
  sitemap& out_;
  collector& urls_;
  std::size_t i_ = 0;
  bool root_seen_ = false;
  std::string_view entry_;        ///< "url" or "sitemap", once the root is known
  std::size_t depth_ = 0;         ///< open elements, root included
  std::size_t entry_depth_ = 0;   ///< depth inside the open entry element, 0 when none
  bool capturing_ = false;        ///< inside a <loc> that counts
  std::string value_;             ///< its character data so far
};

void scan_text(std::string_view doc, bool cut, sitemap& out, collector& urls) {
  std::size_t pos = 0;
  while (pos < doc.size()) {
    const std::size_t nl = doc.find('\n', pos);
    std::string_view line;
    if (nl == std::string_view::npos) {
      if (cut) break;  // the last line is incomplete
      line = doc.substr(pos);
      pos = doc.size();
    } else {
      line = doc.substr(pos, nl - pos);
      pos = nl + 1;
    }
    if (trim(line).empty()) continue;
    if (!urls.add(line)) break;
  }
  if (urls.valid() > 0) {
    out.kind = sitemap_kind::text;
  } else {  // no line was a URL: this is not a text sitemap
    out.kind = sitemap_kind::unknown;
    out.invalid = 0;
  }
}

}  // namespace

result<sitemap> parse_sitemap(std::string_view body, sitemap_limits limits) {
  sitemap out;
  std::string inflated_doc;
  std::string_view doc = body;
  bool cut = false;
  if (is_gzip(body)) {
    auto r = gunzip(body, limits.max_bytes);
    if (!r) return r.err();
    inflated_doc = std::move(r->data);
    doc = inflated_doc;
    cut = r->cut;
  } else if (doc.size() > limits.max_bytes) {
    doc = doc.substr(0, limits.max_bytes);
    cut = true;
  }
  out.truncated = cut;

  if (doc.substr(0, 3) == "\xEF\xBB\xBF") doc.remove_prefix(3);
  while (!doc.empty() && any_space(doc.front())) doc.remove_prefix(1);
  if (doc.empty()) return out;

  collector urls(out, limits.max_urls);
  if (doc.front() == '<') {
    xml_scanner(doc, cut, out, urls).run();
  } else {
    scan_text(doc, cut, out, urls);
  }
  return out;
}

}  // namespace crawld::parse
