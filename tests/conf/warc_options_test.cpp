// WARC options: sizes with suffixes, and the job-file keys warc, warc_max_size, warc_dedup.
#include <gtest/gtest.h>

#include "conf/crawl_options.hpp"
#include "conf/job_file.hpp"

namespace crawld::conf {
namespace {

std::string all_errors(const job_load& j) {
  std::string s;
  for (const auto& e : j.errors) s += to_string(e) + "\n";
  return s;
}

TEST(warc_options, sizes_take_binary_suffixes) {
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("64K"), 64u << 10);
  EXPECT_EQ(*parse_size("100m"), 100u << 20);
  EXPECT_EQ(*parse_size("1G"), 1u << 30);
  EXPECT_EQ(*parse_size("2GiB"), std::uint64_t(2) << 30);
  EXPECT_EQ(*parse_size("1T"), std::uint64_t(1) << 40);
  for (const char* bad : {"", "G", "1.5G", "12Q", "-1", "99999999999999999999"})
    EXPECT_FALSE(parse_size(bad)) << bad;
  EXPECT_EQ(parse_size("12Q").message(),
            "size must be a number with an optional K, M, G or T suffix, got '12Q'");
}

TEST(warc_options, job_file_keys_set_the_warc_options) {
  auto j = load_job_string(R"(
[crawl]
seeds = ["http://a.example/"]
warc = "out/crawl.warc.gz"
warc_max_size = "256M"
warc_dedup = true
)", "job.toml");
  ASSERT_TRUE(j.ok()) << all_errors(j);
  EXPECT_EQ(j.options.warc, "out/crawl.warc.gz");
  EXPECT_EQ(j.options.warc_max_size, std::uint64_t(256) << 20);
  EXPECT_TRUE(j.options.warc_dedup);

  auto bytes = load_job_string("[crawl]\nseeds = [\"http://a.example/\"]\nwarc_max_size = 1000000\n", "b.toml");
  ASSERT_TRUE(bytes.ok()) << all_errors(bytes);
  EXPECT_EQ(bytes.options.warc_max_size, 1000000u);
  EXPECT_EQ(bytes.options.warc, "") << "no WARC unless asked";
}

TEST(warc_options, bad_warc_values_are_reported_where_they_are) {
  auto j = load_job_string(R"([crawl]
seeds = ["http://a.example/"]
warc = 3
warc_max_size = "lots"
warc_dedup = "yes"
)", "bad.toml");
  EXPECT_FALSE(j.ok());
  auto e = all_errors(j);
  EXPECT_NE(e.find("bad.toml:3:8: 'warc' must be a string"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.toml:4:17: 'warc_max_size': size must be a number"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.toml:5:14: 'warc_dedup' must be a boolean"), std::string::npos) << e;
  auto zero = load_job_string("[crawl]\nseeds = [\"http://a.example/\"]\nwarc_max_size = 0\n", "z.toml");
  EXPECT_FALSE(zero.ok());
  EXPECT_NE(all_errors(zero).find("'warc_max_size' must be positive"), std::string::npos) << all_errors(zero);
}

}  // namespace
}  // namespace crawld::conf
