#include "conf/crawl_options.hpp"

#include "parse/url.hpp"

namespace crawld::conf {

result<void> validate(const crawl_options& o) {
  if (o.seeds.empty())
    return make_error("no seed URL given");
  for (const auto& s : o.seeds) {
    auto u = parse::parse_url(s);
    if (!u)
      return make_error("not a valid URL: '" + s + "'");
    if (u->scheme != "http" && u->scheme != "https")
      return make_error("seed URL must be http or https: '" + s + "'");
  }
  if (o.concurrency < 1 || o.concurrency > 4096)
    return make_error("--concurrency must be between 1 and 4096, got " + std::to_string(o.concurrency));
  if (o.per_host < 1 || o.per_host > 1024)
    return make_error("--per-host must be between 1 and 1024, got " + std::to_string(o.per_host));
  if (o.delay.count() < 0)
    return make_error("--delay must not be negative");
  if (o.max_depth < -1)
    return make_error("--depth must be -1 (unlimited) or more");
  auto positive = [](std::chrono::milliseconds d) { return d.count() > 0; };
  if (!positive(o.connect_timeout) || !positive(o.read_timeout) || !positive(o.total_timeout))
    return make_error("timeouts must be positive");
  if (o.max_body_bytes == 0)
    return make_error("--max-body must be positive");
  if (o.max_redirects < 0 || o.max_redirects > 100)
    return make_error("--max-redirects must be between 0 and 100");
  for (const auto& [k, v] : o.headers)
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos || v.find_first_of("\r\n") != std::string::npos)
      return make_error("bad header name or value: '" + k + "'");
  return {};
}

}  // namespace crawld::conf
