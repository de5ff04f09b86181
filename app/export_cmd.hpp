#pragma once
/// `crawld export`: writes a crawl store out in another form. "files" mirrors it to a directory
/// tree (storage/mirror.hpp); "warc" and "jsonl" are not yet supported.
#include <string>

namespace crawld::app {

/// Opens `db` read-only and exports it as `format` to `out`; `convert_links` rewrites links in
/// HTML pages to the mirrored files. Prints a one-line summary (and one line per file that could
/// not be written) and returns 0, 1 on a runtime failure or any file not written, 2 for an
/// unknown or not yet supported format or a missing `out`.
int cmd_export(const std::string& db, const std::string& format, const std::string& out,
               bool convert_links);

}  // namespace crawld::app
