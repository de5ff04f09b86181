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
  bytes[0] = 4;  // 2: a request spec (seed requests); 3: an LZ4 body
  auto r = decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("unknown format version 4"), std::string::npos) << r.message();
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

std::string html_body(std::size_t n) {
  std::string b = "<html><body>";
  for (std::size_t i = 0; b.size() < n; ++i)
    b += "<p><a href=\"/page/" + std::to_string(i % 97) + ".html\">link " + std::to_string(i) + "</a></p>\n";
  b.resize(n);
  return b;
}

std::string random_bytes(std::size_t n) {
  std::uint64_t x = 88172645463325252ull;
  std::string b(n, '\0');
  for (char& c : b) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return b;
}

TEST(page_codec, compressed_body_is_a_version_3_record_that_decodes_to_the_body) {
  for (const std::string& request : {std::string(), std::string("\x01POST body", 10)}) {
    page_record p = full_record();
    p.request = request;
    p.body = html_body(20'000);
    page_record packed = p;
    compress_body(packed);
    ASSERT_EQ(packed.codec, body_codec::lz4);
    EXPECT_EQ(packed.body_size, 20'000u);
    EXPECT_LT(packed.body.size(), 20'000u / 2);
    const std::string bytes = encode(packed);
    EXPECT_EQ(bytes[0], 3);
    EXPECT_LT(bytes.size(), encode(p).size() / 2);
    auto r = decode(bytes);
    ASSERT_TRUE(r.ok()) << r.message();
    expect_same(*r, p);
    EXPECT_EQ(r->request, request);
    EXPECT_EQ(r->codec, body_codec::none);
    EXPECT_EQ(encode_parts(packed).body, packed.body);  // the writer's pieces carry the block
  }
}

// compress_body writes blocks into a per-thread 1 MiB scratch buffer, larger ones into their own:
// bodies on both sides of that size, in a row, each decode to themselves.
TEST(page_codec, bodies_below_and_past_the_scratch_buffer_decode_to_themselves) {
  for (std::size_t size : {std::size_t{20'000}, std::size_t{3'000'000}, std::size_t{1'000'000}, std::size_t{300}}) {
    page_record p = full_record();
    p.body = html_body(size);
    compress_body(p);
    ASSERT_EQ(p.codec, body_codec::lz4) << size;
    EXPECT_LT(p.body.size(), size) << size;
    auto r = decode(encode(p));
    ASSERT_TRUE(r.ok()) << size << ": " << r.message();
    EXPECT_EQ(r->body, html_body(size)) << size;
  }
}

TEST(page_codec, compress_body_leaves_small_incompressible_and_compressed_bodies) {
  page_record small = full_record();
  small.body = html_body(255);
  compress_body(small);
  EXPECT_EQ(small.codec, body_codec::none);
  EXPECT_EQ(small.body, html_body(255));
  EXPECT_EQ(encode(small)[0], 1);

  page_record noise = full_record();
  noise.body = random_bytes(10'000);
  compress_body(noise);
  EXPECT_EQ(noise.codec, body_codec::none);
  EXPECT_EQ(noise.body, random_bytes(10'000));

  page_record twice = full_record();
  twice.body = html_body(5'000);
  compress_body(twice);
  const std::string once = twice.body;
  compress_body(twice);
  EXPECT_EQ(twice.body, once);
  EXPECT_EQ(twice.body_size, 5'000u);
}

TEST(page_codec, decode_rejects_truncated_compressed_record) {
  page_record p = full_record();
  p.body = html_body(3'000);
  compress_body(p);
  const std::string bytes = encode(p);
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    auto r = decode(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_NE(r.message().find("truncated"), std::string::npos) << r.message();
  }
}

// Bytes of a version 3 record up to its body field, for hand-made body fields.
std::string compressed_prefix() {
  std::string bytes = encode(page_record{});  // ends with the empty body's length
  bytes.pop_back();
  bytes[0] = 3;
  return bytes;
}

TEST(page_codec, decode_rejects_unknown_body_codec) {
  std::string bytes = compressed_prefix();
  bytes += std::string("\x02\x05\x05", 3) + "hello" + std::string("\0", 1);
  auto r = decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("unknown body codec 2"), std::string::npos) << r.message();
}

TEST(page_codec, decode_rejects_stated_size_beyond_what_lz4_can_expand_to) {
  // 1 GiB stated for a 4-byte block: refused before anything is allocated.
  std::string bytes = compressed_prefix();
  bytes += std::string("\x01\x80\x80\x80\x80\x04\x04", 7) + "abcd" + std::string("\0", 1);
  auto r = decode(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("more than its 4-byte LZ4 block can hold"), std::string::npos) << r.message();
}

TEST(page_codec, decode_rejects_corrupt_lz4_block_and_wrong_stated_size) {
  page_record p = full_record();
  p.body = html_body(4'000);
  compress_body(p);
  ASSERT_EQ(p.codec, body_codec::lz4);
  page_record shorter = p;
  shorter.body_size = 3'999;  // the block decodes to more than stated
  auto r = decode(encode(shorter));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("corrupt LZ4 block"), std::string::npos) << r.message();
  page_record longer = p;
  longer.body_size = 4'001;  // to less
  r = decode(encode(longer));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("corrupt LZ4 block"), std::string::npos) << r.message();
  page_record garbled = p;
  for (std::size_t i = 0; i < garbled.body.size(); i += 7) garbled.body[i] = static_cast<char>(0xff);
  r = decode(encode(garbled));
  EXPECT_FALSE(r.ok() && r->body == html_body(4'000));
}

}  // namespace
}  // namespace crawld::storage
