#pragma once
/// `crawld export`: writes a crawl store out in another form. "files" mirrors it to a directory
/// tree (storage/mirror.hpp), "jsonl" one JSON object per page (storage/jsonl.hpp), "warc"
/// WARC 1.1 files rebuilt from the store (storage/warc_export.hpp). `crawld warc check`
/// reads WARC files with crawld's own reader and verifies their digests.
#include <cstdint>
#include <string>
#include <vector>

namespace crawld::app {

/// Opens `db` read-only and exports it as `format` to `out`; `convert_links` rewrites links in
/// HTML pages to the mirrored files. Prints a one-line summary (and one line per file that could
/// not be written) and returns 0, 1 on a runtime failure or any file not written, 2 for an
/// unknown format or a missing `out`. For warc, `out` names the files: "x.warc.gz" gives
/// x-00000.warc.gz, ... (rotated at `warc_max_size` bytes).
int cmd_export(const std::string& db, const std::string& format, const std::string& out,
               bool convert_links, std::uint64_t warc_max_size = std::uint64_t(1) << 30);

/// Reads every record of each file, verifying block and payload digests. Prints one summary line
/// per file ("FILE: N records (types), digests ok") to stdout; on the first problem prints
/// "crawld: <file>: <offset and what is wrong>" to stderr and returns 1. 0 when all are good.
int cmd_warc_check(const std::vector<std::string>& files);

}  // namespace crawld::app
