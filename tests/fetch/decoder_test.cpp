#include "fetch/decoder.hpp"

#include <gtest/gtest.h>

#include "helpers.hpp"

namespace crawld::fetch {
namespace {

using testing::compress;

std::string sample_text(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i) + " of some html text\n";
  s.resize(n);
  return s;
}

std::unique_ptr<decoder> make(std::string_view encoding) {
  auto d = decoder::make(encoding);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.message());
  return d.ok() ? std::move(*d) : nullptr;
}

/// Feeds `in` in pieces of `piece` bytes; returns the last status.
decoder::status feed_in_pieces(decoder& d, std::string_view in, std::size_t piece, std::string& out,
                               std::size_t cap) {
  auto st = decoder::status::ok;
  for (std::size_t pos = 0; pos < in.size() && st == decoder::status::ok; pos += piece)
    st = d.feed(in.substr(pos, piece), out, cap);
  return st;
}

TEST(decoder, gzip_decoded_across_one_byte_pieces) {
  const std::string text = sample_text(50'000);
  auto d = make("gzip");
  std::string out;
  EXPECT_EQ(feed_in_pieces(*d, compress(text, 15 + 16), 1, out, 1 << 20), decoder::status::ok);
  EXPECT_EQ(out, text);
  EXPECT_TRUE(d->complete());
}

TEST(decoder, deflate_accepts_zlib_and_raw_framing) {
  const std::string text = sample_text(20'000);
  for (int bits : {15, -15}) {
    for (std::size_t piece : {std::size_t{1}, std::size_t{4096}}) {
      auto d = make("Deflate");
      std::string out;
      EXPECT_EQ(feed_in_pieces(*d, compress(text, bits), piece, out, 1 << 20), decoder::status::ok);
      EXPECT_EQ(out, text) << "window bits " << bits << ", piece " << piece;
      EXPECT_TRUE(d->complete());
    }
  }
}

TEST(decoder, concatenated_gzip_members_decoded_in_turn) {
  auto d = make("x-gzip");
  std::string out;
  EXPECT_EQ(d->feed(compress("first ", 15 + 16) + compress("second", 15 + 16), out, 100),
            decoder::status::ok);
  EXPECT_EQ(out, "first second");
}

TEST(decoder, brotli_decoded) {
  const std::string text = sample_text(100'000);
  std::string encoded;
  httplib::detail::brotli_compressor c;
  ASSERT_TRUE(c.compress(text.data(), text.size(), true, [&](const char* p, std::size_t n) {
    encoded.append(p, n);
    return true;
  }));
  auto d = make("br");
  std::string out;
  EXPECT_EQ(feed_in_pieces(*d, encoded, 7, out, 1 << 20), decoder::status::ok);
  EXPECT_EQ(out, text);
  EXPECT_TRUE(d->complete());
}

TEST(decoder, output_never_exceeds_cap_and_exact_cap_is_not_full) {
  const std::string text = sample_text(10'000);
  const std::string gz = compress(text, 15 + 16);
  for (const char* enc : {"", "identity", "gzip"}) {
    const std::string in = std::string(enc) == "gzip" ? gz : text;
    {
      auto d = make(enc);
      std::string out;
      EXPECT_EQ(d->feed(in, out, text.size()), decoder::status::ok) << enc;
      EXPECT_EQ(out, text);
    }
    {
      auto d = make(enc);
      std::string out;
      EXPECT_EQ(feed_in_pieces(*d, in, 100, out, 1234), decoder::status::full) << enc;
      EXPECT_EQ(out, text.substr(0, 1234));
      EXPECT_EQ(d->feed("more", out, 1234), decoder::status::full);
    }
  }
}

TEST(decoder, corrupt_and_truncated_streams_detected) {
  auto d = make("gzip");
  std::string out;
  EXPECT_EQ(d->feed("\x1f\x8b this is not gzip at all", out, 100), decoder::status::corrupt);

  const std::string gz = compress(sample_text(5000), 15 + 16);
  auto t = make("gzip");
  EXPECT_EQ(t->feed(std::string_view(gz).substr(0, gz.size() / 2), out, 1 << 20), decoder::status::ok);
  EXPECT_FALSE(t->complete());

  auto b = make("br");
  std::string bout;
  EXPECT_EQ(b->feed(std::string(64, '\xff'), bout, 100), decoder::status::corrupt);
}

TEST(decoder, unknown_or_stacked_codings_rejected) {
  EXPECT_FALSE(decoder::make("compress").ok());
  EXPECT_FALSE(decoder::make("zstd").ok());
  EXPECT_FALSE(decoder::make("gzip, br").ok());
  EXPECT_TRUE(decoder::make(" GZIP ").ok());
  EXPECT_TRUE(decoder::make("identity, br").ok());
}

}  // namespace
}  // namespace crawld::fetch
