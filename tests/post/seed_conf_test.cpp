// Seed requests in configuration: the body encodings (checked against what Python's urlencode and
// json.dumps(sort_keys=True) print, i.e. what aiohttp sends), job files' [[seed]] with its errors
// at file:line:column, the daemon's JSON form of it, and the curl-like flags of `crawld crawl`.
#include <gtest/gtest.h>

#include "conf/daemon_config.hpp"
#include "conf/job_file.hpp"
#include "conf/seed_request.hpp"

namespace crawld::conf {
namespace {

TEST(form_encoding, is_what_python_urlencode_sends) {
  // python3: urllib.parse.urlencode({'q':'a b&c=d','n':'é/~*','e':''})
  EXPECT_EQ(form_urlencode({{"q", "a b&c=d"}, {"n", "é/~*"}, {"e", ""}}), "q=a+b%26c%3Dd&n=%C3%A9%2F~%2A&e=");
  EXPECT_EQ(form_encode("AZaz09_.-~"), "AZaz09_.-~");
}

TEST(json_encoding, doubles_are_written_as_python_repr) {
  const std::pair<double, const char*> cases[] = {
      {1.5, "1.5"},           {1.0, "1.0"},         {1e16, "1e+16"},          {1e15, "1000000000000000.0"},
      {123456789.123, "123456789.123"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {-2.5e-7, "-2.5e-07"},
      {1e300, "1e+300"},      {3.141592653589793, "3.141592653589793"}, {1234567890123456.7, "1234567890123456.8"},
      {0.1, "0.1"},           {0.0, "0.0"}};
  for (const auto& [v, want] : cases) {
    auto got = json_dumps_double(v);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, want) << v;
  }
  EXPECT_FALSE(json_dumps_double(std::numeric_limits<double>::infinity()).ok());
  EXPECT_FALSE(json_dumps_double(std::numeric_limits<double>::quiet_NaN()).ok());
}

TEST(json_encoding, strings_are_ascii_escaped_as_python_does) {
  auto s = json_dumps_string("q\"\\\n\t\x01\x7f" "é€😀");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, R"("q\"\\\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00")");
  EXPECT_FALSE(json_dumps_string("\xff").ok());
  EXPECT_FALSE(json_dumps_string("\xed\xa0\x80").ok()) << "a surrogate is not UTF-8";
}

job_load load(const std::string& text) { return load_job_string(text, "job.toml"); }

std::string errors_of(const job_load& j) {
  std::string out;
  for (const auto& e : j.errors)
    out += to_string(e) + "\n";
  return out;
}

TEST(job_seed, form_json_and_raw_bodies_become_requests) {
  auto j = load(R"([crawl]
seeds = ["http://127.0.0.1:1/plain"]

[[seed]]
url = "http://127.0.0.1:1/search"
form = { z = [1, 2], a = "x y" }

[[seed]]
url = "http://127.0.0.1:1/api"
method = "put"
headers = { X-Token = "t1" }
json = { b = [1, 2.5, true, false, {}], a = "q\"\\\n\t\u0001\u007fé€😀", c = { y = [], x = -3 } }

[[seed]]
url = "http://127.0.0.1:1/raw"
body = "<x/>"
content_type = "application/xml"

[[seed]]
url = "http://127.0.0.1:1/get-with-header"
headers = { Accept = "application/json" }
)");
  ASSERT_TRUE(j.ok()) << errors_of(j);
  EXPECT_EQ(j.options.seeds, std::vector<std::string>{"http://127.0.0.1:1/plain"}) << "plain seeds keep working";
  const auto& s = j.options.seed_requests;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].url, "http://127.0.0.1:1/search");
  EXPECT_EQ(s[0].request.method, "POST") << "a body means POST by default";
  EXPECT_EQ(s[0].request.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(s[0].request.body, "a=x+y&z=1&z=2");  // keys sorted; arrays repeat the key
  EXPECT_EQ(s[1].request.method, "PUT");
  EXPECT_EQ(s[1].request.content_type, "application/json");
  // python3: json.dumps({...}, sort_keys=True)
  EXPECT_EQ(s[1].request.body,
            R"({"a": "q\"\\\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00", "b": [1, 2.5, true, false, {}], "c": {"x": -3, "y": []}})");
  EXPECT_EQ(s[1].request.headers, (std::vector<std::pair<std::string, std::string>>{{"X-Token", "t1"}}));
  EXPECT_EQ(s[2].request.method, "POST");
  EXPECT_EQ(s[2].request.body, "<x/>");
  EXPECT_EQ(s[2].request.content_type, "application/xml");
  EXPECT_EQ(s[3].request.method, "GET");
  EXPECT_EQ(s[3].request.body, "");
}

TEST(job_seed, a_job_of_seed_requests_only_is_valid) {
  auto j = load("[[seed]]\nurl = \"http://127.0.0.1:1/\"\nform = { a = \"1\" }\n");
  ASSERT_TRUE(j.ok()) << errors_of(j);
  EXPECT_TRUE(validate(j.options).ok());
}

TEST(job_seed, errors_are_placed_and_explained) {
  struct bad_case {
    const char* text;
    const char* where;
    const char* says;
  };
  const bad_case cases[] = {
      {"[[seed]]\nurl = \"http://h.test/\"\nfrom = { a = \"1\" }\n", "job.toml:3:1:", "did you mean 'form'?"},
      {"[[seed]]\nurl = \"http://h.test/\"\nform = { a = \"1\" }\njson = [1]\n", "job.toml:4:1:",
       "'json' and 'form' both give the body"},
      {"[[seed]]\nurl = \"http://h.test/\"\nmethod = \"GET\"\nform = { a = \"1\" }\n", "job.toml:3:10:",
       "method GET cannot send a body ('form')"},
      {"[[seed]]\nurl = \"http://h.test/\"\nmethod = \"FETCH\"\n", "job.toml:3:10:",
       "'method' must be one of GET, POST, PUT, PATCH, DELETE, got 'FETCH'"},
      {"[[seed]]\nurl = \"http://h.test/\"\nbody = \"x\"\n", "job.toml:3:8:", "'body' needs a 'content_type'"},
      {"[[seed]]\nurl = \"http://h.test/\"\ncontent_type = \"text/plain\"\n", "job.toml:3:16:",
       "'content_type' without a body"},
      {"[[seed]]\nmethod = \"POST\"\n", "job.toml:1:1:", "[[seed]] needs a 'url'"},
      {"[[seed]]\nurl = \"ftp://h.test/\"\n", "job.toml:2:7:", "seed URL must be http or https"},
      {"[[seed]]\nurl = \"http://h.test/\"\nform = { a = { b = 1 } }\n", "job.toml:3:14:",
       "'form.a' must be a string, a number or an array of them, got table"},
      {"[[seed]]\nurl = \"http://h.test/\"\njson = { when = 1979-05-27 }\n", "job.toml:3:17:",
       "'json' cannot hold a date"},
      {"seed = \"http://h.test/\"\n", "job.toml:1:8:", "'seed' must be an array of tables ([[seed]])"},
      {"[[seeds]]\nurl = \"http://h.test/\"\n", "job.toml:1:3:", "did you mean [seed]?"},
  };
  for (const auto& c : cases) {
    auto j = load(c.text);
    ASSERT_FALSE(j.ok()) << c.text;
    auto all = errors_of(j);
    EXPECT_NE(all.find(c.where), std::string::npos) << c.text << "\n" << all;
    EXPECT_NE(all.find(c.says), std::string::npos) << c.text << "\n" << all;
  }
}

TEST(job_seed, the_daemon_json_form_gives_the_same_requests) {
  auto toml = job_toml_from_json(R"({"seed": [{"url": "http://127.0.0.1:1/s", "form": {"q": "a b"}},
                                              {"url": "http://127.0.0.1:1/j", "json": {"k": [1, "v"]}, "headers": {"X-A": "1"}}]})");
  ASSERT_TRUE(toml.ok()) << toml.message();
  auto j = load_job_string(*toml, "job");
  ASSERT_TRUE(j.ok()) << errors_of(j);
  ASSERT_EQ(j.options.seed_requests.size(), 2u);
  EXPECT_EQ(j.options.seed_requests[0].request.body, "q=a+b");
  EXPECT_EQ(j.options.seed_requests[1].request.body, R"({"k": [1, "v"]})");
  EXPECT_EQ(j.options.seed_requests[1].request.headers.at(0).first, "X-A");
  auto bad = load_job_string(*job_toml_from_json(R"({"seed": [{"url": "http://h.test/", "json": {}, "body": "x"}]})"), "job");
  EXPECT_FALSE(bad.ok());
}

TEST(crawl_flags, build_the_request_curl_would_send) {
  request_flags f;
  EXPECT_FALSE(request_from_flags(f)->has_value()) << "no flag: plain GET seeds";
  f.data = {"a=1", "b=x y"};
  f.data_urlencode = {"c=d&e", "=f g", "h i"};
  auto r = request_from_flags(f);
  ASSERT_TRUE(r.ok() && *r) << (r.ok() ? "" : r.message());
  EXPECT_EQ((*r)->method, "POST");
  EXPECT_EQ((*r)->body, "a=1&b=x y&c=d%26e&f+g&h+i") << "--data as given, --data-urlencode encoded";
  EXPECT_EQ((*r)->content_type, "application/x-www-form-urlencoded");

  request_flags j;
  j.json = R"({"a": 1})";
  j.method = "patch";
  r = request_from_flags(j);
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ((*r)->method, "PATCH");
  EXPECT_EQ((*r)->body, R"({"a": 1})");
  EXPECT_EQ((*r)->content_type, "application/json");

  request_flags del;
  del.method = "DELETE";
  r = request_from_flags(del);
  ASSERT_TRUE(r.ok() && *r);
  EXPECT_EQ((*r)->method, "DELETE");
}

TEST(crawl_flags, refuse_contradictions_with_one_line) {
  request_flags a;
  a.data = {"x=1"};
  a.json = "{}";
  EXPECT_EQ(request_from_flags(a).message(), "--json cannot be combined with --data or --data-urlencode");
  request_flags b;
  b.json = "{nope";
  EXPECT_EQ(request_from_flags(b).message().rfind("--json is not valid JSON: line 1, column", 0), 0u)
      << request_from_flags(b).message();
  request_flags c;
  c.method = "GET";
  c.data = {"x=1"};
  EXPECT_EQ(request_from_flags(c).message(), "--request GET cannot send a body (--data, --data-urlencode or --json)");
  request_flags d;
  d.method = "HEAD";
  EXPECT_EQ(request_from_flags(d).message(), "--request must be one of GET, POST, PUT, PATCH, DELETE, got 'HEAD'");
  request_flags e;
  e.content_type = "text/plain";
  EXPECT_FALSE(request_from_flags(e).ok());
}

}  // namespace
}  // namespace crawld::conf
