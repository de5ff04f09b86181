#pragma once
/// Byte-level HTML tokenizer primitives shared by link extraction's pre-scan (parse/links) and the
/// mirror's link rewriting (storage/mirror): they follow the HTML Standard's tokenizer for
/// comments, declarations and raw-text elements, on arbitrary (even invalid) bytes, in linear time.
/// Indexes are byte offsets into `h`. Pure and thread-safe.
#include <cstddef>
#include <string_view>

namespace crawld::parse::html {

/// The tokenizer's whitespace between attributes: space, tab, LF, CR, FF.
bool space(char c);
/// `h` at `i` starts with `lower_s` (which must be lower-case), ASCII case-insensitively.
bool starts_with_ci(std::string_view h, std::size_t i, std::string_view lower_s);
/// An end tag `</name` followed by a delimiter at `i` (what ends raw text). `name` lower-case.
bool end_tag_at(std::string_view h, std::size_t i, std::string_view name);
/// The index after the next '>' at or after `i`, or h.size().
std::size_t after_gt(std::string_view h, std::size_t i);
/// From just after "<!": the index after the comment, doctype or bogus comment.
std::size_t skip_markup_declaration(std::string_view h, std::size_t i);
/// From just after a raw-text start tag (script, style, textarea, title, ...; `name` lower-case):
/// the index of its end tag, or h.size(). Script data follows the "<!--" / "<script" escape states.
std::size_t skip_raw_text(std::string_view h, std::size_t i, std::string_view name);

}  // namespace crawld::parse::html
