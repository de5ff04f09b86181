// WARC, export, stats and bad input through the real crawld binary: the crawl-time WARC and the
// exported one are read back by crawld's reader and by webrecorder's warcio (npm; that part is
// skipped only when warcio is not installed), corrupted WARC files are rejected by
// `crawld warc check`, `crawld stats` reads a store while a crawl process writes it, a store of a
// newer format is refused and left byte for byte as it was, and a full disk (RLIMIT_FSIZE)
// ends the crawl with a clear error and a store that opens afterwards.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "process.hpp"
#include "storage/store.hpp"
#include "storage/warc.hpp"
#include "tests/site.hpp"
#include "tests/temp_dir.hpp"
#include "testsite/server.hpp"

namespace crawld {
namespace {

namespace fs = std::filesystem;
using test::run;
using test::start_site;
using test::temp_dir;
using namespace std::chrono_literals;

const std::string repo = fs::weakly_canonical(fs::path(CRAWLD_TEST_DATA) / ".." / "..").string();

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }


/// Runs a shell command; combined output and exit status (-1 if it did not exit).
std::pair<std::string, int> shell(const std::string& cmd) {
  std::string out;
  std::FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {"popen failed", -1};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

bool warcio_installed() {
  return shell("command -v node").second == 0 &&
         fs::exists(repo + "/build-tools/node_modules/warcio/package.json");
}

/// warcio's verdict on `files` (tests/storage/warcio_check.mjs): output and exit code.
std::pair<std::string, int> warcio_check(const std::vector<std::string>& files) {
  std::string cmd = "node '" + repo + "/tests/storage/warcio_check.mjs'";
  for (const auto& f : files) cmd += " '" + f + "'";
  return shell(cmd);
}

std::vector<std::string> files_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<storage::warc_record> read_all(const std::vector<std::string>& files) {
  std::vector<storage::warc_record> out;
  for (const auto& f : files) {
    auto rd = storage::warc_reader::open(f);
    EXPECT_TRUE(rd) << rd.message();
    if (!rd) continue;
    for (int i = 0; i < 1'000'000; ++i) {
      auto rec = (*rd)->next(true);
      EXPECT_TRUE(rec) << rec.message();
      if (!rec || !*rec) break;
      out.push_back(std::move(**rec));
    }
  }
  return out;
}

/// A warcinfo block is application/warc-fields: every line "name: value", CRLF-terminated.
void expect_warc_fields(const storage::warc_record& rec) {
  EXPECT_EQ(rec.header("Content-Type"), "application/warc-fields");
  std::regex line("[A-Za-z][A-Za-z0-9-]*: [^\r\n]*");
  std::size_t pos = 0;
  while (pos < rec.block.size()) {
    auto end = rec.block.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos) << rec.block;
    EXPECT_TRUE(std::regex_match(rec.block.substr(pos, end - pos), line)) << rec.block;
    pos = end + 2;
  }
}

std::map<std::string, storage::page_record> stored_pages(const std::string& db) {
  std::map<std::string, storage::page_record> pages;
  auto st = storage::store::open(db, storage::open_options{false, true});
  EXPECT_TRUE(st.ok()) << st.message();
  if (st.ok())
    (*st)->for_each_page([&](const storage::page_record& p) {
      pages[p.url] = p;
      return true;
    });
  return pages;
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return "(inflateInit2 failed)";
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  int rc = Z_OK;
  for (int i = 0; i < 100000 && rc == Z_OK; ++i) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "(corrupt gzip)";
}

/// The value of HTTP header `name` in an HTTP message (first match, case-insensitive), "" if none.
std::string http_header(const std::string& msg, const std::string& name) {
  std::regex re("\r\n" + name + ":[ \t]*([^\r]*)\r\n", std::regex::icase);
  std::smatch m;
  auto head = msg.substr(0, msg.find("\r\n\r\n") + 2);
  return std::regex_search(head, m, re) ? m[1].str() : "";
}

TEST(warc_cli, crawl_warc_holds_every_exchange_as_received_and_warcio_verifies_it) {
  auto site = start_site(2, 40);
  ASSERT_TRUE(site);
  temp_dir d;
  auto db = d / "db";
  auto r = run({"crawl", site->model().origin(0) + "/", site->model().origin(1) + "/", "--db", db,
                "--warc", d / "crawl.warc.gz", "--warc-max-size", "64K"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto files = files_with_prefix(d.path(), "crawl-");
  ASSERT_GE(files.size(), 2u) << "rotated at 64 KiB";
  EXPECT_EQ(fs::path(files[0]).filename(), "crawl-00000.warc.gz");
  for (const auto& f : files) EXPECT_LE(fs::file_size(f), 64u * 1024 + 40 * 1024) << f;

  auto check = run([&] {
    std::vector<std::string> a = {"warc", "check"};
    a.insert(a.end(), files.begin(), files.end());
    return a;
  }());
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(contains(check.out, "digests ok")) << check.out;

  auto records = read_all(files);
  auto pages = stored_pages(db);
  std::map<std::string, const storage::warc_record*> requests_by_id;
  std::set<std::string> response_uris;
  std::size_t requests = 0, warcinfos = 0, decoded_checked = 0;
  for (const auto& rec : records) {
    auto type = rec.type();
    if (type == "warcinfo") {
      ++warcinfos;
      expect_warc_fields(rec);
      EXPECT_TRUE(contains(rec.block, "http-header-user-agent: crawld/")) << rec.block;
    }
    if (type == "request") {
      ++requests;
      requests_by_id[rec.id()] = &rec;
      EXPECT_EQ(rec.header("Content-Type"), "application/http;msgtype=request");
      EXPECT_EQ(rec.block.rfind("GET /", 0), 0u) << rec.block;
    }
    if (type != "response") continue;
    EXPECT_EQ(rec.header("Content-Type"), "application/http;msgtype=response");
    EXPECT_FALSE(rec.header("WARC-Payload-Digest").empty());
    auto uri = rec.header("WARC-Target-URI");
    response_uris.insert(uri);
    auto req = requests_by_id.find(rec.header("WARC-Concurrent-To"));
    ASSERT_NE(req, requests_by_id.end()) << "the response follows its request: " << uri;
    EXPECT_EQ(req->second->header("WARC-Target-URI"), uri);
    // As received: the body still gzip-encoded when the server compressed it.
    auto it = pages.find(uri);
    if (it != pages.end() && !it->second.body.empty() &&
        http_header(rec.block, "Content-Encoding") == "gzip") {
      EXPECT_EQ(gunzip(storage::http_payload(rec.block)), it->second.body) << uri;
      ++decoded_checked;
    }
  }
  EXPECT_EQ(warcinfos, files.size()) << "one warcinfo per file";
  EXPECT_EQ(requests, site->requests().size()) << "one request record per request the site served";
  EXPECT_GT(decoded_checked, 20u);
  std::set<std::string> expected_uris;
  for (auto& [url, p] : pages) expected_uris.insert(url);
  expected_uris.insert(site->model().origin(0) + "/robots.txt");  // archived too
  expected_uris.insert(site->model().origin(1) + "/robots.txt");
  EXPECT_EQ(response_uris, expected_uris);

  // Export the same store: rebuilt responses, one per stored page.
  auto ex = run({"export", "--db", db, "--format", "warc", "--out", d / "export.warc.gz"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  auto exported = files_with_prefix(d.path(), "export-");
  ASSERT_EQ(exported.size(), 1u);
  auto ex_records = read_all(exported);
  std::size_t ex_responses = 0;
  for (const auto& rec : ex_records) {
    if (rec.type() == "warcinfo") {
      expect_warc_fields(rec);
      EXPECT_TRUE(contains(rec.block, "software: crawld/")) << rec.block;
    }
    if (rec.type() != "response") continue;
    ++ex_responses;
    EXPECT_TRUE(contains(rec.header("WARC-Warning"), "rebuilt from a crawld store"));
    auto it = pages.find(rec.header("WARC-Target-URI"));
    ASSERT_NE(it, pages.end());
    EXPECT_EQ(storage::http_payload(rec.block), it->second.body);
    EXPECT_EQ(rec.block.rfind("HTTP/1.1 " + std::to_string(it->second.status), 0), 0u);
  }
  EXPECT_EQ(ex_responses, pages.size());

  if (!warcio_installed()) GTEST_SKIP() << "warcio not installed (deploy/install-test-tools.sh)";
  for (const auto* set : {&files, &exported}) {
    auto [out, code] = warcio_check(*set);
    std::size_t n = set == &files ? records.size() : ex_records.size();
    EXPECT_EQ(code, 0) << out;
    EXPECT_TRUE(contains(out, "records=" + std::to_string(n) + " block_verified=" + std::to_string(n)))
        << out;
    EXPECT_TRUE(contains(out, "failures=0")) << out;
    if (auto at = out.rfind("records="); at != std::string::npos)
      std::printf("warcio on the %s WARC: %s", set == &files ? "crawl-time" : "exported",
                  out.substr(at).c_str());
  }
}

TEST(warc_cli, dedup_writes_a_revisit_for_a_payload_already_archived) {
  httplib::Server srv;
  const std::string same = "<html><body>the same page twice</body></html>";
  srv.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html><body><a href=/a.html>a</a> <a href=/b.html>b</a></body></html>", "text/html");
  });
  srv.Get("/a.html", [&](const httplib::Request&, httplib::Response& res) { res.set_content(same, "text/html"); });
  srv.Get("/b.html", [&](const httplib::Request&, httplib::Response& res) { res.set_content(same, "text/html"); });
  int port = srv.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread t([&] { srv.listen_after_bind(); });
  temp_dir d;
  auto origin = "http://127.0.0.1:" + std::to_string(port);
  auto r = run({"crawl", origin + "/", "--warc", d / "dd.warc", "--warc-dedup", "--concurrency", "1"});
  srv.stop();
  t.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto files = files_with_prefix(d.path(), "dd-");
  ASSERT_EQ(files.size(), 1u);
  auto records = read_all(files);
  std::vector<const storage::warc_record*> revisits, responses;
  for (const auto& rec : records) {
    if (rec.type() == "revisit") revisits.push_back(&rec);
    if (rec.type() == "response") responses.push_back(&rec);
  }
  ASSERT_EQ(revisits.size(), 1u);
  EXPECT_EQ(responses.size(), 3u) << "robots.txt (404), / and the first of a.html, b.html";
  const auto& rv = *revisits[0];
  std::set<std::string> pair = {rv.header("WARC-Target-URI"), rv.header("WARC-Refers-To-Target-URI")};
  EXPECT_EQ(pair, (std::set<std::string>{origin + "/a.html", origin + "/b.html"}));
  EXPECT_EQ(rv.header("WARC-Profile"), storage::warc_revisit_profile);
  bool found = false;
  for (const auto* resp : responses)
    if (resp->id() == rv.header("WARC-Refers-To")) {
      found = true;
      EXPECT_EQ(resp->header("WARC-Payload-Digest"), rv.header("WARC-Payload-Digest"));
    }
  EXPECT_TRUE(found) << "WARC-Refers-To names the original response record";
  if (!warcio_installed()) GTEST_SKIP() << "warcio not installed";
  auto [out, code] = warcio_check(files);
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "failures=0")) << out;
}

TEST(warc_cli, truncated_or_corrupted_warc_is_rejected_with_a_clear_error) {
  auto site = start_site(1, 30);
  ASSERT_TRUE(site);
  temp_dir d;
  auto r = run({"crawl", site->model().origin(0) + "/", "--warc", d / "c.warc.gz"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string good = d / "c-00000.warc.gz";
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  ASSERT_GT(bytes.size(), 20000u);
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(d / name, std::ios::binary) << content;
    return d / name;
  };
  auto one_line = [](const std::string& err) { return std::count(err.begin(), err.end(), '\n') == 1; };

  auto ok = run({"warc", "check", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  auto cut = run({"warc", "check", write("cut.warc.gz", bytes.substr(0, bytes.size() * 2 / 3))});
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_TRUE(contains(cut.err, "cut.warc.gz': truncated gzip member starting at byte ")) << cut.err;
  EXPECT_TRUE(one_line(cut.err)) << cut.err;

  std::string flipped = bytes;
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 8; ++i) flipped[i] = char(~flipped[i]);
  auto bad = run({"warc", "check", write("flipped.warc.gz", flipped)});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(contains(bad.err, "flipped.warc.gz': ")) << bad.err;
  // Which check trips depends on where the flipped bytes fall in that run's deflate stream (CRC,
  // a garbled record header, a block length running past the end...): each names an offset.
  EXPECT_TRUE(contains(bad.err, " byte ")) << bad.err;
  EXPECT_TRUE(one_line(bad.err)) << bad.err;

  // Uncompressed, one byte of a response body changed: only the digest can tell.
  std::string plain;
  {
    auto rd = storage::warc_reader::open(good);
    ASSERT_TRUE(rd);
    for (int k = 0; k < 4; ++k) {
      auto rec = (*rd)->next();
      ASSERT_TRUE(rec && *rec);
      std::string block = (*rec)->block;
      if ((*rec)->type() == "response" && block.size() > 100) block[block.size() - 10] ^= 0x20;
      plain += (*rec)->version + "\r\n";
      for (const auto& [k2, v] : (*rec)->headers) plain += k2 + ": " + v + "\r\n";
      plain += "\r\n" + block + "\r\n\r\n";
    }
  }
  auto digest = run({"warc", "check", write("tampered.warc", plain)});
  EXPECT_EQ(digest.exit_code, 1);
  EXPECT_TRUE(contains(digest.err, "WARC-Block-Digest mismatch")) << digest.err;
  EXPECT_TRUE(one_line(digest.err)) << digest.err;

  auto junk = run({"warc", "check", write("junk.warc", "HTTP/1.1 200 OK\r\n\r\nnot a warc at all\r\n")});
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_TRUE(contains(junk.err, "not a WARC record")) << junk.err;

  auto missing = run({"warc", "check", d / "absent.warc.gz"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "cannot open WARC file")) << missing.err;
}

TEST(warc_cli, stats_reads_the_store_while_a_crawl_process_writes_it) {
  auto site = start_site(2, 300, 30ms);
  ASSERT_TRUE(site);
  temp_dir d;
  auto db = d / "db";
  test::child crawl({"crawl", site->model().origin(0) + "/", site->model().origin(1) + "/", "--db", db,
                     "--concurrency", "2", "--per-host", "1"});
  std::uint64_t seen = 0;
  std::string out;
  // Wait until the running crawl has stored some pages (batches land every 100 ms).
  for (int i = 0; i < 300 && seen < 10; ++i) {
    std::this_thread::sleep_for(50ms);
    auto s = run({"stats", "--db", db, "--top", "1"});
    if (s.exit_code != 0) continue;  // the store may not exist yet
    out = s.out;
    std::smatch m;
    if (std::regex_search(out, m, std::regex("pages: +([0-9]+)"))) seen = std::stoull(m[1]);
  }
  ASSERT_GE(seen, 10u) << out;
  auto served_at_stats = site->requests().size();
  EXPECT_TRUE(contains(out, "hosts:      2")) << out;
  EXPECT_TRUE(contains(out, "time span:")) << out;
  EXPECT_TRUE(contains(out, "outcomes:   ")) << out;
  // --top 1: exactly one host line.
  EXPECT_EQ(std::regex_search(out, std::regex("\n  [0-9]+ " + std::regex_replace(site->model().origin(0), std::regex("[.]"), "[.]"))) +
                std::regex_search(out, std::regex("\n  [0-9]+ " + std::regex_replace(site->model().origin(1), std::regex("[.]"), "[.]"))),
            1)
      << out;
  // The crawl was still running: it went on requesting after stats had read the store.
  for (int i = 0; i < 200 && site->requests().size() <= served_at_stats + 5; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_GT(site->requests().size(), served_at_stats + 5);
  crawl.signal(SIGTERM);
  auto r = crawl.wait(20s);
  EXPECT_EQ(r.exit_code, 143) << r.err;
  auto after = run({"stats", "--db", db});
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

/// Every file of `dir` with its bytes: a store "left untouched" compares equal.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    files[e.path().filename().string()] = s.str();
  }
  return files;
}

TEST(warc_cli, store_of_a_newer_format_is_refused_and_left_untouched) {
  temp_dir d;
  auto db = d / "db";
  {
    auto st = storage::store::open(db);
    ASSERT_TRUE(st.ok()) << st.message();
    storage::page_record p;
    p.url = "http://a.example/";
    p.status = 200;
    ASSERT_TRUE((*st)->put_pages({p}).ok());
    ASSERT_TRUE((*st)->put_meta("format_version", std::to_string(storage::format_version + 1)).ok());
  }
  auto before = snapshot(db);
  const std::string expected = "crawld: cannot open store '" + db + "': store format " +
                               std::to_string(storage::format_version + 1) +
                               " is newer than this crawld supports (" +
                               std::to_string(storage::format_version) + ")\n";
  for (auto args : std::vector<std::vector<std::string>>{
           {"crawl", "http://127.0.0.1:9/", "--db", db},
           {"stats", "--db", db},
           {"export", "--db", db, "--format", "jsonl"},
           {"export", "--db", db, "--format", "warc", "--out", d / "x.warc.gz"}}) {
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err, expected) << args[0];
  }
  EXPECT_TRUE(snapshot(db) == before) << "the store's files are byte for byte as they were";
}

/// Runs `crawld ARGS` under a file-size limit of `kib` KiB with SIGXFSZ ignored, so that writes
/// past it fail with EFBIG as they would on a full disk. Exit code (-1: no exit) and stderr.
std::pair<int, std::string> run_with_file_limit(const temp_dir& d, int kib, const std::string& args) {
  {
    std::ofstream script(d / "run.sh");
    script << "trap '' XFSZ\nulimit -f " << kib << "\nexec '" << CRAWLD_BINARY << "' " << args
           << " > '" << (d / "out") << "' 2> '" << (d / "err") << "'\n";
  }
  int status = std::system(("timeout 60 sh '" + (d / "run.sh") + "'").c_str());
  std::ifstream in(d / "err");
  std::stringstream s;
  s << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.str()};
}

TEST(warc_cli, full_disk_ends_the_crawl_with_a_clear_error_and_the_store_opens_afterwards) {
  auto site = start_site(2, 200);
  ASSERT_TRUE(site);
  temp_dir d;
  auto db = d / "db";
  auto seeds = site->model().origin(0) + "/ " + site->model().origin(1) + "/";
  // The store's WAL outgrows 400 KiB.
  auto [code, err] = run_with_file_limit(d, 400, "crawl " + seeds + " --db '" + db + "' -q");
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(contains(err, "crawld: store '" + db + "': cannot write pages and frontier: ")) << err;
  EXPECT_TRUE(contains(err, "File too large")) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;
  // Without the limit the store opens for reading and for writing, and a crawl can use it.
  auto stats = run({"stats", "--db", db});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  // The re-run continues the interrupted crawl from the store's frontier (how far the first run
  // got before the limit varies with speed; --max-pages counts across runs, so none is given):
  // it finishes the crawl.
  const auto before = stored_pages(db).size();
  auto again = run({"crawl", site->model().origin(0) + "/", "--db", db});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_GT(stored_pages(db).size(), before);

  // Without a store, the WARC file is what outgrows the limit.
  auto [wcode, werr] = run_with_file_limit(d, 200, "crawl " + seeds + " --warc '" + (d / "full.warc.gz") + "' -q");
  EXPECT_EQ(wcode, 1);
  EXPECT_TRUE(contains(werr, "crawld: WARC: cannot write WARC record to '" + (d / "full-00000.warc.gz") +
                                 "': File too large (file kept up to its last complete record, "))
      << werr;
  EXPECT_EQ(std::count(werr.begin(), werr.end(), '\n'), 1) << "one line: " << werr;
  // The file was cut back to its last complete record: it reads cleanly to the end.
  auto check = run({"warc", "check", d / "full-00000.warc.gz"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_TRUE(contains(check.out, "digests ok")) << check.out;
}

}  // namespace
}  // namespace crawld
