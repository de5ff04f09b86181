// politeness_key ("host" | "ip"): default, validation, and its job-file key.
#include <gtest/gtest.h>

#include "conf/crawl_options.hpp"
#include "conf/job_file.hpp"

namespace crawld::conf {
namespace {

TEST(politeness_key, defaults_to_host_and_accepts_only_host_or_ip) {
  crawl_options o;
  o.seeds = {"http://example.com/"};
  EXPECT_EQ(o.politeness_key, "host");
  EXPECT_TRUE(validate(o));
  o.politeness_key = "ip";
  EXPECT_TRUE(validate(o));
  o.politeness_key = "IP-address";
  auto r = validate(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.message(), "--politeness-key must be 'host' or 'ip', got 'IP-address'");
}

TEST(politeness_key, job_file_sets_it_in_the_politeness_table) {
  auto job = load_job_string("[crawl]\nseeds = [\"http://example.com/\"]\n[politeness]\npoliteness_key = \"ip\"\n",
                             "job.toml");
  ASSERT_TRUE(job.ok()) << to_string(job.errors.front());
  EXPECT_EQ(job.options.politeness_key, "ip");
  auto set = load_job_string("[crawl]\nseeds = [\"http://example.com/\"]\n", "job.toml", {"politeness.politeness_key=ip"});
  ASSERT_TRUE(set.ok()) << to_string(set.errors.front());
  EXPECT_EQ(set.options.politeness_key, "ip");
}

TEST(politeness_key, job_file_error_names_the_line_and_the_choices) {
  auto job = load_job_string("[crawl]\nseeds = [\"http://example.com/\"]\n[politeness]\npoliteness_key = \"dns\"\n",
                             "job.toml");
  ASSERT_EQ(job.errors.size(), 1u);
  EXPECT_EQ(job.errors[0].line, 4);
  EXPECT_NE(job.errors[0].message.find("'host' or 'ip'"), std::string::npos) << job.errors[0].message;
  auto wrong_type = load_job_string("[crawl]\nseeds = [\"http://example.com/\"]\n[politeness]\npoliteness_key = 4\n",
                                    "job.toml");
  ASSERT_EQ(wrong_type.errors.size(), 1u);
  EXPECT_EQ(wrong_type.errors[0].line, 4);
}

}  // namespace
}  // namespace crawld::conf
