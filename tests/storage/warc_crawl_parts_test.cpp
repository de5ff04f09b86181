// The parts of storage/ the crawl and `export --format warc` use: file numbering that skips
// existing files, name prefixes, extra record fields, warcinfo fields, and responses rebuilt
// from a page record.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/warc.hpp"
#include "storage/warc_export.hpp"
#include "tests/temp_dir.hpp"

namespace crawld::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::temp_dir;

std::vector<warc_record> read_all(const std::string& path) {
  std::vector<warc_record> out;
  auto r = warc_reader::open(path);
  EXPECT_TRUE(r) << r.message();
  if (!r) return out;
  for (int i = 0; i < 100000; ++i) {
    auto rec = (*r)->next(true);
    EXPECT_TRUE(rec) << rec.message();
    if (!rec || !*rec) break;
    out.push_back(std::move(**rec));
  }
  return out;
}

TEST(warc_parts, prefix_strips_warc_extensions_only) {
  EXPECT_EQ(warc_prefix("out.warc.gz"), "out");
  EXPECT_EQ(warc_prefix("dir/out.warc"), "dir/out");
  EXPECT_EQ(warc_prefix("out"), "out");
  EXPECT_EQ(warc_prefix("out.gz"), "out.gz");
  EXPECT_EQ(warc_prefix(".warc.gz"), ".warc.gz") << "nothing would be left";
}

TEST(warc_parts, skip_existing_starts_after_the_files_already_there) {
  temp_dir d;
  for (const char* n : {"c-00000.warc.gz", "c-00001.warc.gz"}) std::ofstream(d / n) << "old";
  warc_writer_options o;
  o.skip_existing = true;
  auto w = warc_writer::open(d / "c", o);
  ASSERT_TRUE(w) << w.message();
  EXPECT_EQ((*w)->current_path(), d / "c-00002.warc.gz");
  ASSERT_TRUE((*w)->close());
  std::ifstream in(d / "c-00000.warc.gz");
  std::string old;
  in >> old;
  EXPECT_EQ(old, "old") << "never overwritten";
  // Without the option an existing first file is an error.
  auto again = warc_writer::open(d / "c");
  ASSERT_FALSE(again);
  EXPECT_THAT(again.message(), HasSubstr("File exists"));
}

TEST(warc_parts, extra_fields_and_concurrent_revisit_are_written) {
  temp_dir d;
  warc_writer_options o;
  o.software = "crawld/test";
  o.info_fields = {{"http-header-user-agent", "ua/1\r\nInjected: yes"}};
  auto w = warc_writer::open(d / "x", o);
  ASSERT_TRUE(w) << w.message();
  auto req = (*w)->write_request("http://a.example/", 1700000000000, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
  ASSERT_TRUE(req);
  auto resp = (*w)->write_response("http://a.example/", 1700000000000,
                                   "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", *req,
                                   {{"WARC-Truncated", "length"}});
  ASSERT_TRUE(resp);
  warc_revisit r;
  r.target_uri = "http://a.example/b";
  r.date_ms = 1700000001000;
  r.payload_digest = warc_sha1_digest("12345");
  r.refers_to_uri = "http://a.example/";
  r.refers_to_id = *resp;
  ASSERT_TRUE((*w)->write_revisit(r, *req));
  ASSERT_TRUE((*w)->close());
  auto recs = read_all(d / "x-00000.warc.gz");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_THAT(recs[0].block, HasSubstr("\r\nhttp-header-user-agent: ua/1  Injected: yes\r\n"));
  EXPECT_EQ(recs[2].header("WARC-Truncated"), "length");
  EXPECT_EQ(recs[2].header("WARC-Concurrent-To"), *req);
  EXPECT_EQ(recs[3].header("WARC-Concurrent-To"), *req);
  EXPECT_EQ(recs[3].header("WARC-Refers-To"), *resp);
}

TEST(warc_parts, rebuilt_response_drops_wire_framing_and_describes_the_stored_body) {
  page_record p;
  p.url = "http://a.example/";
  p.status = 404;
  p.headers = {{"Content-Type", "text/html"}, {"Content-Encoding", "gzip"},
               {"transfer-encoding", "chunked"}, {"Content-Length", "999"}, {"X-Keep", "yes"}};
  p.body = "<p>gone</p>";
  EXPECT_EQ(rebuilt_http_response(p),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nX-Keep: yes\r\n"
            "Content-Length: 11\r\n\r\n<p>gone</p>");
  p.status = 299;
  p.body.clear();
  EXPECT_EQ(rebuilt_http_response(p).substr(0, 14), "HTTP/1.1 299\r\n") << "no invented reason";
  p.status = 0;
  EXPECT_EQ(rebuilt_http_response(p), "");
}

}  // namespace
}  // namespace crawld::storage
