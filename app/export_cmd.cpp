// `crawld export`: a crawl store as files (a browsable mirror), JSON Lines or WARC (rebuilt from
// the store: see storage/warc_export.hpp); `crawld warc check`: crawld's own WARC reader.
#include "app/export_cmd.hpp"

#include <iostream>
#include <map>
#include <memory>

#include "app/commands.hpp"
#include "storage/jsonl.hpp"
#include "storage/mirror.hpp"
#include "storage/store.hpp"
#include "storage/warc.hpp"
#include "storage/warc_export.hpp"

namespace crawld::app {

namespace {

/// One JSON object per stored page, to `out` or stdout ("" or "-").
int export_jsonl(const std::string& db, const std::string& out) {
  auto st = storage::store::open(db, storage::open_options{false, true});
  if (!st) {
    print_error(st.message());
    return 1;
  }
  std::unique_ptr<storage::jsonl_writer> file;
  if (!out.empty() && out != "-") {
    auto w = storage::jsonl_writer::open(out);
    if (!w) {
      print_error(w.message());
      return 1;
    }
    file = std::move(*w);
  }
  std::uint64_t n = 0;
  std::string failure;
  auto walked = (*st)->for_each_page([&](const storage::page_record& p) {
    if (file) {
      if (auto r = file->write(p); !r) {
        failure = r.message();
        return false;
      }
    } else {
      std::cout << storage::page_to_jsonl(p);
    }
    ++n;
    return true;
  });
  if (file && failure.empty())
    if (auto r = file->close(); !r)
      failure = r.message();
  if (!walked)
    failure = walked.message();
  if (!failure.empty()) {
    print_error(failure);
    return 1;
  }
  std::cout.flush();
  if (file)
    std::cerr << "exported " << n << " pages to " << out << '\n';
  return 0;
}

int export_warc(const std::string& db, const std::string& out, std::uint64_t max_size) {
  if (out.empty() || out == "-") {
    print_error("export --format warc needs --out FILE (files FILE-00000.warc.gz, ... are written)");
    return 2;
  }
  auto st = storage::store::open(db, storage::open_options{false, true});
  if (!st) {
    print_error(st.message());
    return 1;
  }
  storage::warc_writer_options o;
  o.software = std::string("crawld/") + CRAWLD_VERSION;
  o.description = "export of the crawl store " + db;
  o.max_file_bytes = max_size;
  auto r = storage::export_warc(**st, storage::warc_prefix(out), o);
  if (!r) {
    print_error(r.message());
    return 1;
  }
  std::cout << "exported " << r->records << " response records (" << r->skipped
            << " pages without a response skipped) to";
  for (const auto& f : r->files) std::cout << ' ' << f;
  std::cout << '\n';
  return 0;
}

}  // namespace

int cmd_warc_check(const std::vector<std::string>& files) {
  for (const auto& file : files) {
    auto rd = storage::warc_reader::open(file);
    if (!rd) {
      print_error(rd.message());
      return 1;
    }
    std::map<std::string, std::uint64_t> types;
    std::uint64_t n = 0;
    for (;;) {
      auto rec = (*rd)->next(true);
      if (!rec) {
        print_error(rec.message());
        return 1;
      }
      if (!*rec) break;
      ++n;
      ++types[(*rec)->type()];
    }
    if (n == 0) {
      print_error("'" + file + "': no WARC records");
      return 1;
    }
    std::cout << file << ": " << n << " records (";
    bool first = true;
    for (auto& [t, c] : types) {
      std::cout << (first ? "" : ", ") << t << ' ' << c;
      first = false;
    }
    std::cout << "), digests ok\n";
  }
  return 0;
}

int cmd_export(const std::string& db, const std::string& format, const std::string& out,
               bool convert_links, std::uint64_t warc_max_size) {
  if (format == "warc")
    return export_warc(db, out, warc_max_size);
  if (format == "jsonl")
    return export_jsonl(db, out);
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
