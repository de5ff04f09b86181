#include "storage/page.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace crawld::storage {
namespace {

page_record full_record() {
  page_record p;
  p.url = "http://a.test:8080/x?q=1";
  p.final_url = "http://a.test:8080/y";
  p.status = 301;
  p.outcome = "redirect";
  p.headers = {{"Content-Type", "text/html; charset=utf-8"}, {"Location", "/y"}, {"X-Empty", ""}};
  p.content_type = "text/html";
  p.fetched_at_ms = 1'700'000'000'123;
  p.duration_us = 4'567;
  p.depth = 3;
  p.redirect_chain = {"http://a.test:8080/a", "http://a.test:8080/b"};
  p.location = "http://a.test:8080/y";
  p.canonical = "http://a.test:8080/canon";
  p.outlinks = 42;
  p.wire_bytes = 123'456;
  p.truncated = true;
  p.body = "<html>hello</html>";
  return p;
}

void expect_same(const page_record& a, const page_record& b) {
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.final_url, b.final_url);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.content_type, b.content_type);
  EXPECT_EQ(a.fetched_at_ms, b.fetched_at_ms);
  EXPECT_EQ(a.duration_us, b.duration_us);
  EXPECT_EQ(a.depth, b.depth);
  EXPECT_EQ(a.redirect_chain, b.redirect_chain);
  EXPECT_EQ(a.location, b.location);
  EXPECT_EQ(a.canonical, b.canonical);
  EXPECT_EQ(a.outlinks, b.outlinks);
  EXPECT_EQ(a.wire_bytes, b.wire_bytes);
  EXPECT_EQ(a.truncated, b.truncated);
  EXPECT_EQ(a.body, b.body);
}

page_record round_trip(const page_record& p) {
  auto r = decode(encode(p));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? *r : page_record{};
}

TEST(page_codec, page_round_trip_keeps_every_field) {
  const page_record p = full_record();
  expect_same(round_trip(p), p);
}

TEST(page_codec, round_trip_of_default_record) {
  expect_same(round_trip(page_record{}), page_record{});
}

TEST(page_codec, round_trip_keeps_large_binary_body) {
  page_record p = full_record();
  p.body.resize(3u << 20);
  for (std::size_t i = 0; i < p.body.size(); ++i) p.body[i] = static_cast<char>(i * 131 % 256);
  p.body[0] = '\0';
  p.url = std::string("http://a.test/\0\xff\x80", 17);
  expect_same(round_trip(p), p);
}

TEST(page_codec, round_trip_keeps_many_headers) {
  page_record p = full_record();
  p.headers.clear();
  for (int i = 0; i < 1000; ++i)
    p.headers.emplace_back("h" + std::to_string(i), std::string(i, 'v'));
  expect_same(round_trip(p), p);
}

TEST(page_codec, round_trip_keeps_extreme_numbers) {
  page_record p;
  p.status = std::numeric_limits<int>::min();
  p.depth = std::numeric_limits<int>::max();
  p.fetched_at_ms = std::numeric_limits<std::int64_t>::min();
  p.duration_us = std::numeric_limits<std::int64_t>::max();
  p.outlinks = std::numeric_limits<std::uint32_t>::max();
  p.wire_bytes = std::numeric_limits<std::uint64_t>::max();
  expect_same(round_trip(p), p);
  p.fetched_at_ms = -1;
  p.status = -1;
  expect_same(round_trip(p), p);
}

TEST(page_codec, decode_rejects_truncated_bytes) {
  const std::string bytes = encode(full_record());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    if (n > 0) {
      EXPECT_NE(r.message().find("truncated"), std::string::npos) << r.message();
    }
  }
}

TEST(page_codec, decode_rejects_trailing_garbage) {
  auto r = decode(encode(full_record()) + "xy");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("2 trailing bytes"), std::string::npos) << r.message();
}

TEST(page_codec, decode_rejects_newer_version) {
  std::string bytes = encode(full_record());
  bytes[0] = 3;  // 2 is a record with a request spec (seed requests)
  auto r = decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("unknown format version 3"), std::string::npos) << r.message();
}

TEST(page_codec, decode_rejects_foreign_bytes) {
  EXPECT_FALSE(decode("").ok());
  EXPECT_FALSE(decode("<html>").ok());
  EXPECT_FALSE(decode(std::string("\0", 1)).ok());
}

TEST(page_codec, decode_rejects_oversized_counts_and_varints) {
  // Version, empty url, then a final_url length that is an 11-byte varint.
  std::string overlong("\x01\x00", 2);
  overlong += std::string(10, '\xff') + '\x01';
  EXPECT_FALSE(decode(overlong).ok());

  // A header count far larger than the remaining bytes must fail, not allocate.
  std::string huge_count("\x01\x00\x00\x00\x00", 5);  // url, final_url, status, outcome
  huge_count += std::string(9, '\xff') + '\x01';
  auto r = decode(huge_count);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("headers"), std::string::npos) << r.message();
}

TEST(page_codec, decode_rejects_invalid_boolean) {
  page_record p;
  std::string bytes = encode(p);
  // Default record ends with: truncated byte, empty body length.
  ASSERT_EQ(bytes[bytes.size() - 2], '\0');
  bytes[bytes.size() - 2] = 7;
  EXPECT_FALSE(decode(bytes).ok());
}

}  // namespace
}  // namespace crawld::storage
