// Findings of the fuzz targets (tests/fuzz/), kept as regression tests of the normal suite. The
// inputs are also in the seed corpora (tests/fuzz/corpus/<target>/).
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "fetch/retry_after.hpp"
#include "storage/warc.hpp"

namespace crawld {
namespace {

// tests/fuzz/corpus/http/retry_after_year_5153: from_time_t of a date past 2262 overflowed
// system_clock's nanoseconds (UBSan: signed integer overflow in chrono.h).
TEST(fuzz_regressions, retry_after_date_far_in_the_future_is_clamped_to_the_cap) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const auto cap = std::chrono::milliseconds(3'600'000);
  auto d = fetch::parse_retry_after("Wed, 21 Oct 5153 07:28:00 GMT", now, cap);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, cap);
  auto near = fetch::parse_retry_after("Tue, 14 Nov 2023 22:13:27 GMT", now, cap);  // now + 7 s
  ASSERT_TRUE(near.has_value());
  EXPECT_EQ(*near, std::chrono::milliseconds(7'000));
}

// tests/fuzz/corpus/warc/multiline_error: the reader quoted a bad header line as it was, so its
// error spanned several lines (and could carry any byte to a terminal or a log). Every error is now
// one line with control characters escaped (make_error).
TEST(fuzz_regressions, warc_reader_error_quoting_a_bad_header_is_one_line) {
  std::string path = std::string(CRAWLD_TEST_DATA) + "/../fuzz/corpus/warc/multiline_error";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path;
  auto r = storage::warc_reader::open(path);
  ASSERT_TRUE(r.ok()) << r.message();
  std::string message;
  for (int i = 0; i < 100 && message.empty(); ++i) {
    auto rec = (*r)->next(true);
    if (!rec.ok())
      message = rec.message();
    else if (!*rec)
      break;
  }
  ASSERT_FALSE(message.empty()) << "the corpus input must make the reader fail";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\r'), std::string::npos) << message;
  EXPECT_NE(message.find(path), std::string::npos) << "names the file: " << message;
}

TEST(fuzz_regressions, any_error_message_is_one_line_and_bounded) {
  auto e = make_error("bad value 'a\r\nb\x01\x7f\tc'");
  EXPECT_EQ(e.message, "bad value 'a\\r\\nb\\x01\\x7f\tc'");
  auto big = make_error(std::string(10'000, 'x') + "\n");
  EXPECT_LE(big.message.size(), 4096u + 40);
  EXPECT_NE(big.message.find("more bytes)"), std::string::npos);
  EXPECT_EQ(big.message.find('\n'), std::string::npos);
  EXPECT_EQ(make_error("plain").message, "plain");
}

}  // namespace
}  // namespace crawld
