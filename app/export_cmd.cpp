// `crawld export`: a crawl store as files (a browsable mirror); WARC and JSON Lines come later.
#include "app/export_cmd.hpp"

#include <iostream>

#include "app/commands.hpp"
#include "storage/mirror.hpp"
#include "storage/store.hpp"

namespace crawld::app {

int cmd_export(const std::string& db, const std::string& format, const std::string& out,
               bool convert_links) {
  if (format == "warc" || format == "jsonl") {
    print_error("export format '" + format + "' is not yet supported");
    return 2;
  }
  if (format != "files") {
    print_error("unknown export format '" + format + "' (expected files, warc or jsonl)");
    return 2;
  }
  if (out.empty()) {
    print_error("export --format files needs an output directory");
    return 2;
  }
  auto st = storage::store::open(db, storage::open_options{false, true});
  if (!st) {
    print_error(st.message());
    return 1;
  }
  auto r = storage::write_mirror(**st, {out, convert_links});
  if (!r) {
    print_error(r.message());
    return 1;
  }
  for (const std::string& e : r->errors) print_error(e);
  std::cout << "exported " << r->files << " files (" << r->bytes << " bytes) to " << out;
  if (convert_links)
    std::cout << ", " << r->links_converted << " links converted, " << r->links_absolute
              << " made absolute";
  std::uint64_t skipped = 0;
  for (auto& [reason, n] : r->skipped) skipped += n;
  if (skipped > 0) {
    std::cout << "; skipped " << skipped << ':';
    for (auto& [reason, n] : r->skipped) std::cout << ' ' << reason << ' ' << n;
  }
  std::cout << '\n';
  return r->errors.empty() ? 0 : 1;
}

}  // namespace crawld::app
