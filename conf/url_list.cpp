#include "conf/url_list.hpp"

#include "parse/url.hpp"

namespace crawld::conf {

url_list read_url_list(std::istream& in) {
  url_list out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto first = line.find_first_not_of(" \t\r\n\v\f");
    if (first == std::string::npos || line[first] == '#')
      continue;
    auto last = line.find_last_not_of(" \t\r\n\v\f");
    auto text = line.substr(first, last - first + 1);
    auto u = parse::parse_url(text);
    if (!u || (u->scheme != "http" && u->scheme != "https")) {
      auto shown = text.size() > 200 ? text.substr(0, 200) + "..." : text;
      out.errors.push_back("line " + std::to_string(n) + ": not an http(s) URL: '" + shown + "'");
      continue;
    }
    out.urls.push_back(std::move(text));
  }
  return out;
}

}  // namespace crawld::conf
