#pragma once
/// A crawl store as WARC 1.1: one `response` record per stored page that got an HTTP response,
/// rebuilt from the page record, in key (URL) order. Not "as received": the store keeps the
/// decoded body (only for HTML 2xx pages unless the crawl used --keep-non-html) and the parsed
/// headers, not the bytes on the wire. So each record says `WARC-Warning: rebuilt from a crawld
/// store ...`, its HTTP block has the status line with a standard reason phrase, the stored
/// headers minus Content-Encoding, Transfer-Encoding and Content-Length (they described the wire
/// form), then `Content-Length` of the stored body, and the stored body. A page whose body was cut
/// (too_large) gets `WARC-Truncated: length`; one whose body was not kept though bytes arrived
/// gets `WARC-Truncated: unspecified`. No request records (the request as sent is not stored).
/// For an archive as received, crawl with --warc. Not thread-safe (one writer).
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "storage/page.hpp"
#include "storage/store.hpp"
#include "storage/warc.hpp"

namespace crawld::storage {

/// The HTTP response block rebuilt from a page as described above ("" when status is 0).
std::string rebuilt_http_response(const page_record& p);

struct warc_export_result {
  std::uint64_t records = 0;  ///< response records written
  std::uint64_t skipped = 0;  ///< pages without an HTTP response (network errors, robots_denied...)
  std::vector<std::string> files;
};

/// The HTTP request block of a seed request rebuilt from its page (method, path, Host, the
/// request's own headers, Content-Type, Content-Length, body); "" for a plain GET (page.request
/// empty) or an unreadable spec.
std::string rebuilt_http_request(const page_record& p);

/// Writes every page of `st` to PREFIX-00000.warc.gz, ... (see warc_writer). A seed request's
/// page (a POST ...) also gets a request record before its response (WARC-Concurrent-To), so the
/// archive tells it from a GET of the same URL. Stops at the first
/// error (a store read or a file write), which names the file or store.
result<warc_export_result> export_warc(const store& st, const std::string& prefix,
                                       warc_writer_options opts = {});

}  // namespace crawld::storage
