#pragma once
/// A download list: one URL per line (the `--urls FILE` of `crawld crawl`). Blank lines and lines
/// starting with '#' are ignored; surrounding whitespace is trimmed; a line that is not an
/// absolute http(s) URL is reported with its line number and skipped. Pure and thread-safe.
#include <istream>
#include <string>
#include <vector>

namespace crawld::conf {

struct url_list {
  std::vector<std::string> urls;    ///< as written (trimmed), in file order
  std::vector<std::string> errors;  ///< "line 7: not an http(s) URL: 'ftp://x'"
};

url_list read_url_list(std::istream& in);

}  // namespace crawld::conf
