#pragma once
/// A seed request that is not a plain GET: method, extra headers and a body with its content
/// type (job files' `[[seed]]`, `crawld crawl --data/--json/--request`). Links found later are
/// always plain GETs and carry no request spec.
///
/// It travels through the crawl as its `encode_request` bytes (url_task::request, the frontier
/// entry, the page record): an empty string means "plain GET", so the common path costs one empty
/// std::string. The encoding is deterministic (the same spec always gives the same bytes), which
/// makes the bytes usable as a dedup fingerprint (storage::request_key).
///
/// Layout: version byte 1, then method, headers (count, name, value ...), body, content type;
/// every string and count a 4-byte big-endian length/number. `decode_request` rejects truncated,
/// trailing or foreign bytes. Pure and thread-safe; header-only (used by conf, fetch, storage and
/// actors, which do not link each other).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace crawld {

struct request_spec {
  std::string method = "GET";  ///< upper-case: GET, POST, PUT, PATCH, DELETE
  std::vector<std::pair<std::string, std::string>> headers;  ///< sent after the job's, replacing same names
  std::string body;             ///< bytes as sent
  std::string content_type;     ///< Content-Type of the body ("" when there is no body)

  bool operator==(const request_spec& o) const {
    return method == o.method && headers == o.headers && body == o.body && content_type == o.content_type;
  }
};

/// Methods a seed request may use (HEAD is not: a crawler wants the body).
inline bool known_method(std::string_view m) {
  return m == "GET" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

namespace request_detail {
inline void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s.data(), s.size());
}
inline bool get_u32(std::string_view& in, std::uint32_t& v) {
  if (in.size() < 4)
    return false;
  v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(4);
  return true;
}
inline bool get_str(std::string_view& in, std::string& s) {
  std::uint32_t n = 0;
  if (!get_u32(in, n) || n > in.size())
    return false;
  s.assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}
}  // namespace request_detail

/// The spec's bytes; "" for a plain GET without headers (nothing to carry).
inline std::string encode_request(const request_spec& r) {
  using namespace request_detail;
  if (r.method == "GET" && r.headers.empty() && r.body.empty() && r.content_type.empty())
    return {};
  std::string out;
  out.push_back(1);
  put_str(out, r.method);
  put_u32(out, static_cast<std::uint32_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    put_str(out, k);
    put_str(out, v);
  }
  put_str(out, r.body);
  put_str(out, r.content_type);
  return out;
}

/// The spec from its bytes; "" decodes to a plain GET.
inline result<request_spec> decode_request(std::string_view in) {
  using namespace request_detail;
  request_spec r;
  if (in.empty())
    return r;
  auto bad = [] { return make_error("corrupt request spec"); };
  if (in[0] != 1)
    return bad();
  in.remove_prefix(1);
  std::uint32_t n = 0;
  if (!get_str(in, r.method) || !get_u32(in, n) || n > in.size() / 8)
    return bad();
  for (std::uint32_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!get_str(in, k) || !get_str(in, v))
      return bad();
    r.headers.emplace_back(std::move(k), std::move(v));
  }
  if (!get_str(in, r.body) || !get_str(in, r.content_type) || !in.empty())
    return bad();
  return r;
}

/// The method of encoded spec bytes without decoding the rest ("GET" for "" or corrupt bytes).
inline std::string request_method(std::string_view in) {
  using namespace request_detail;
  std::string m;
  if (in.size() > 1 && in[0] == 1) {
    in.remove_prefix(1);
    if (get_str(in, m))
      return m;
  }
  return "GET";
}

}  // namespace crawld
