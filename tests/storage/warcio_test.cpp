/// Independent check: WARC files written by crawld are read and verified by webrecorder's warcio
/// (npm, installed by deploy/install-test-tools.sh into <repo>/build-tools) through
/// tests/storage/warcio_check.mjs. Skips only when node or that warcio is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <regex>

#include "storage/warc.hpp"

namespace crawld::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string repo = fs::weakly_canonical(fs::path(CRAWLD_TEST_DATA) / ".." / "..").string();

/// Runs `cmd` through the shell; its combined output and exit status (-1 if it did not exit).
std::pair<std::string, int> run(const std::string& cmd) {
  std::string out;
  std::FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {"popen failed", -1};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

TEST(warc_warcio, warcio_reads_and_verifies_every_record) {
  if (run("command -v node").second != 0) GTEST_SKIP() << "node not found: warcio check skipped";
  if (!fs::exists(repo + "/build-tools/node_modules/warcio/package.json"))
    GTEST_SKIP() << "warcio not installed in " << repo
                 << "/build-tools: run deploy/install-test-tools.sh";

  char tmpl[] = "/tmp/crawld_warcio_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  warc_writer_options o;
  o.software = "crawld/test";
  o.operator_name = "warcio check";
  o.max_file_bytes = 16 * 1024;  // several files
  auto w = warc_writer::open(dir + "/w", o);
  ASSERT_TRUE(w) << w.message();

  std::mt19937 rng(42);
  int pairs = 0, payloads = 0;
  std::string first_uri, first_digest;
  for (int i = 0; i < 12; ++i) {
    std::string uri = "http://a.example/page/" + std::to_string(i) + "?q=\xC3\xA9";
    std::string req = "GET /page/" + std::to_string(i) + " HTTP/1.1\r\nHost: a.example\r\n\r\n";
    std::string body(std::size_t(500 + 400 * i), '\0');
    for (auto& c : body) c = char(rng() & 0xff);
    std::string resp;
    if (i % 3 == 0) {
      // Chunked (and content-encoded: the payload digest keeps the coding, drops the chunking).
      resp = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
      for (std::size_t at = 0; at < body.size(); at += 700) {
        std::string part = body.substr(at, 700);
        char size[16];
        std::snprintf(size, sizeof size, "%zx", part.size());
        resp += std::string(size) + "\r\n" + part + "\r\n";
      }
      resp += "0\r\n\r\n";
    } else {
      resp = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    }
    auto rq = (*w)->write_request(uri, 1700000000000 + i, req);
    ASSERT_TRUE(rq) << rq.message();
    auto rs = (*w)->write_response(uri, 1700000000000 + i, resp, *rq);
    ASSERT_TRUE(rs) << rs.message();
    ++pairs;
    ++payloads;
    if (i == 0) {
      first_uri = uri;
      first_digest = warc_sha1_digest(http_payload(resp));
    }
  }
  warc_revisit r;
  r.target_uri = "http://b.example/same";
  r.date_ms = 1700000100000;
  r.http_response_head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n";
  r.payload_digest = first_digest;
  r.refers_to_uri = first_uri;
  r.refers_to_date_ms = 1700000000000;
  ASSERT_TRUE((*w)->write_revisit(r));
  ASSERT_TRUE((*w)->close());
  const auto& paths = (*w)->paths();
  ASSERT_GE(paths.size(), 2u);

  std::string cmd = "node '" + repo + "/tests/storage/warcio_check.mjs'";
  for (const auto& p : paths) cmd += " '" + p + "'";
  auto [out, code] = run(cmd);
  int records = 2 * pairs + 1 + int(paths.size());  // + revisit + one warcinfo per file
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("records=" + std::to_string(records) + " block_verified=" +
                             std::to_string(records) + " payload_verified=" +
                             std::to_string(payloads) + " failures=0"))
      << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("FAIL"))) << out;
  if (auto at = out.rfind("records="); at != std::string::npos)
    std::printf("warcio says: %s", out.substr(at).c_str());

  // The checker is not a rubber stamp: a flipped byte inside a block is reported.
  std::string plain = dir + "/tampered.warc";
  {
    auto rd = warc_reader::open(paths[0]);
    ASSERT_TRUE(rd);
    std::FILE* f = std::fopen(plain.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    for (int k = 0; k < 2; ++k) {
      auto rec = (*rd)->next();
      ASSERT_TRUE(rec && *rec);
      std::string bytes = (*rec)->version + "\r\n";
      for (const auto& [name, value] : (*rec)->headers) bytes += name + ": " + value + "\r\n";
      std::string block = (*rec)->block;
      if (k == 1) block[block.size() / 2] ^= 1;
      bytes += "\r\n" + block + "\r\n\r\n";
      std::fwrite(bytes.data(), 1, bytes.size(), f);
    }
    std::fclose(f);
  }
  auto [bad_out, bad_code] = run("node '" + repo + "/tests/storage/warcio_check.mjs' '" + plain + "'");
  EXPECT_EQ(bad_code, 1) << bad_out;
  EXPECT_THAT(bad_out, HasSubstr("block: header sha1:")) << bad_out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crawld::storage
