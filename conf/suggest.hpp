#pragma once
/// "Did you mean ...?" for configuration keys (job files, the daemon config). Pure functions.
#include <string>
#include <string_view>
#include <vector>

namespace crawld::conf {

/// Levenshtein distance (insertions, deletions, substitutions) between `a` and `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` if it is within two edits (a typo) or one is a prefix of the
/// other of at least three characters ("polite" for "politeness"), else "".
std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace crawld::conf
