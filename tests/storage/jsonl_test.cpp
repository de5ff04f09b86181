#include "storage/jsonl.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/warc.hpp"

namespace crawld::storage {
namespace {

using ::testing::HasSubstr;

TEST(jsonl, jsonl_escapes_and_fields) {
  // Escapes: quotes, backslash, short forms, other controls as \u00XX, DEL, U+2028/9.
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quote(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(json_quote("x\xE2\x80\xA8y\xE2\x80\xA9"), "\"x\\u2028y\\u2029\"");
  // Valid UTF-8 passes through unchanged (2, 3 and 4 bytes, highest code point).
  EXPECT_EQ(json_quote("h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"),
            "\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"");
  // Invalid UTF-8: every byte not starting a well-formed sequence becomes U+FFFD.
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(json_quote("a\xFF" "b"), "\"a" + r + "b\"");               // never valid
  EXPECT_EQ(json_quote("\xC0\xAF"), "\"" + r + r + "\"");              // overlong '/'
  EXPECT_EQ(json_quote("\xE0\x80\xAF"), "\"" + r + r + r + "\"");      // overlong, 3 bytes
  EXPECT_EQ(json_quote("\xED\xA0\x80"), "\"" + r + r + r + "\"");      // surrogate D800
  EXPECT_EQ(json_quote("\xF4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // > U+10FFFF
  EXPECT_EQ(json_quote("ab\xE2\x82"), "\"ab" + r + r + "\"");          // cut at the end
  EXPECT_EQ(json_quote("\xC3(x"), "\"" + r + "(x\"");                  // bad continuation

  page_record p;
  p.url = "http://a.example/\"q\"";
  p.final_url = "http://a.example/final";
  p.status = 200;
  p.outcome = "ok";
  p.content_type = "text/html";
  p.fetched_at_ms = 1700000000123;
  p.duration_us = 12345;
  p.depth = 2;
  p.outlinks = 17;
  p.wire_bytes = 999;
  p.redirect_chain = {"http://a.example/r1", "http://a.example/r2\n"};
  p.location = "";
  p.canonical = "http://a.example/canon";
  p.body = "<p>hi\xFF</p>";
  std::string line = page_to_jsonl(p);
  EXPECT_EQ(line,
            "{\"url\":\"http://a.example/\\\"q\\\"\",\"final_url\":\"http://a.example/final\","
            "\"status\":200,\"outcome\":\"ok\",\"content_type\":\"text/html\",\"length\":10,"
            "\"wire_bytes\":999,\"fetched_at\":\"2023-11-14T22:13:20.123Z\",\"duration_ms\":12.345,"
            "\"depth\":2,\"outlinks\":17,\"redirect_chain\":[\"http://a.example/r1\","
            "\"http://a.example/r2\\n\"],\"location\":\"\",\"canonical\":\"http://a.example/canon\","
            "\"truncated\":false,\"digest\":\"" + warc_sha1_digest(p.body) + "\"}\n");
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line per record
  page_record empty;
  std::string e = page_to_jsonl(empty);
  EXPECT_THAT(e, HasSubstr("\"redirect_chain\":[]"));
  EXPECT_THAT(e, HasSubstr("\"duration_ms\":0.000"));
  EXPECT_THAT(e, HasSubstr("\"fetched_at\":\"1970-01-01T00:00:00.000Z\""));
  EXPECT_THAT(e, HasSubstr("\"digest\":\"sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\""));

  // The writer: one line per page; errors name the file.
  char tmpl[] = "/tmp/crawld_jsonl_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/pages.jsonl";
  auto w = jsonl_writer::open(path);
  ASSERT_TRUE(w) << w.message();
  ASSERT_TRUE((*w)->write(p));
  ASSERT_TRUE((*w)->write(empty));
  ASSERT_TRUE((*w)->close());
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), line + e);
  std::filesystem::remove_all(tmpl);
  auto bad = jsonl_writer::open("/nonexistent-dir/p.jsonl");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.message(), HasSubstr("'/nonexistent-dir/p.jsonl'"));
  auto full = jsonl_writer::open("/dev/full");
  ASSERT_TRUE(full);
  ASSERT_TRUE((*full)->write(p));  // buffered
  auto closed = (*full)->close();
  ASSERT_FALSE(closed);
  EXPECT_THAT(closed.message(), HasSubstr("No space left on device"));
}

}  // namespace
}  // namespace crawld::storage
