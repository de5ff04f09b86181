#pragma once
/// URL parsing and resolution per the WHATWG URL Standard, and normalization for dedup.
///
/// `parse_url` follows the standard's basic URL parser for special schemes (http, https, ws, wss,
/// ftp, file) including host parsing (IPv4 forms, IPv6, IDNA via libidn2's UTS #46 processing) and
/// percent-encode sets, and supports non-special schemes with opaque or hierarchical paths.
/// All functions are pure and thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace crawld::parse {

/// A parsed absolute URL. Components are stored serialized, as the standard's API getters
/// return them minus their delimiters.
struct url {
  std::string scheme;    ///< lower-case, without ':'
  std::string username;  ///< percent-encoded
  std::string password;  ///< percent-encoded
  std::string host;      ///< serialized host ("" when none); IPv6 in brackets
  bool has_host = false; ///< distinguishes "file:///x" (empty host) from "sc:x" (no host)
  int port = -1;         ///< -1 when absent or the scheme's default
  std::string path;      ///< serialized path ("/a/b", or an opaque path)
  bool opaque_path = false; ///< "mailto:x", "sc:x": the path is one opaque string, not segments
  bool has_query = false;
  std::string query;     ///< without '?'
  bool has_fragment = false;
  std::string fragment;  ///< without '#'

  /// The serialized URL (the standard's href).
  std::string href() const;
  /// http, https, ws, wss, ftp or file.
  bool special() const;
  /// The port in use: explicit or the scheme's default (80/443/21...), -1 when none.
  int effective_port() const;
  /// "scheme://host:port" with the effective port always written: the politeness key of a host.
  std::string host_key() const;
  /// Path plus "?query" (no fragment): what goes on an HTTP request line.
  std::string request_target() const;
};

/// Field by field.
bool operator==(const url& a, const url& b);
bool operator!=(const url& a, const url& b);

/// Parses `input` (leading/trailing C0 control or space trimmed, tab/newline removed) against
/// `base` when given. Returns nullopt where the standard says failure.
std::optional<url> parse_url(std::string_view input, const url* base = nullptr);

/// The dedup form of a URL: scheme and host lower-cased (already so after parsing), default port
/// dropped, fragment dropped, dot segments removed, percent-encoded unreserved characters
/// (ALPHA / DIGIT / "-" / "." / "_" / "~") decoded and remaining percent-escapes upper-cased in
/// path and query (file: paths are only upper-cased); query order kept; an empty path of a special
/// URL becomes "/". For `u` from parse_url, `parse_url(normalize(u))` is exactly `normalized(u)`
/// (so a normalized link need not be parsed again), and `normalized(u).href() == normalize(u)`.
url normalized(url u);

/// `normalized(u).href()`: the dedup key. Idempotent: normalizing the result gives it back.
std::string normalize(const url& u);

/// Convenience: parse (absolute) and normalize in one step; nullopt if `input` is not a URL.
std::optional<std::string> normalize(std::string_view input);

}  // namespace crawld::parse
