#include "conf/suggest.hpp"

#include <algorithm>
#include <limits>

namespace crawld::conf {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The candidate nearest to `word` if it is within two edits (a typo) or one is a prefix of the
/// other of at least three characters ("polite" for "politeness"), else "".
std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (auto c : candidates) {
    auto d = edit_distance(word, c);
    auto shorter = std::min(word.size(), c.size());
    bool prefix = shorter >= 3 && word.substr(0, shorter) == c.substr(0, shorter);
    if ((d <= 2 || prefix) && d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return std::string(best);
}

}  // namespace crawld::conf
