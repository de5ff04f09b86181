// Seed requests through the storage layer: the request spec's encoding, the dedup key (method and
// body make a request of its own, as Scrapy's fingerprint does), frontier entries and page
// records with and without one (old version-1 bytes still read), and a real RocksDB frontier.
#include <gtest/gtest.h>

#include "base/request.hpp"
#include "storage/frontier.hpp"
#include "storage/page.hpp"
#include "storage/store.hpp"
#include "tests/temp_dir.hpp"

namespace crawld {
namespace {

request_spec post_form(std::string body) {
  request_spec r;
  r.method = "POST";
  r.headers = {{"X-Token", "t1"}};
  r.body = std::move(body);
  r.content_type = "application/x-www-form-urlencoded";
  return r;
}

TEST(request_spec, round_trips_through_its_encoding) {
  auto r = post_form(std::string("q=a+b&bin=\0\xff", 12));
  auto bytes = encode_request(r);
  auto back = decode_request(bytes);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(request_method(bytes), "POST");
  EXPECT_EQ(encode_request(r), bytes) << "deterministic";
}

TEST(request_spec, a_plain_get_encodes_to_nothing) {
  EXPECT_EQ(encode_request(request_spec{}), "");
  auto back = decode_request("");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->method, "GET");
  request_spec with_header;
  with_header.headers = {{"X-A", "1"}};
  EXPECT_NE(encode_request(with_header), "") << "a GET with its own headers is carried";
}

TEST(request_spec, decode_rejects_truncated_trailing_and_foreign_bytes) {
  auto bytes = encode_request(post_form("a=1"));
  for (std::size_t n = 1; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_request(bytes.substr(0, n)).ok()) << n;
  EXPECT_FALSE(decode_request(bytes + "x").ok());
  EXPECT_FALSE(decode_request("\x02" + bytes.substr(1)).ok());
  EXPECT_FALSE(decode_request("<html>").ok());
}

TEST(request_key, differs_by_method_and_body_and_never_equals_a_url) {
  const std::string url = "http://a.test/search";
  const auto p1 = encode_request(post_form("q=1"));
  const auto p2 = encode_request(post_form("q=2"));
  auto put = post_form("q=1");
  put.method = "PUT";
  EXPECT_EQ(storage::request_key(url, ""), url);
  EXPECT_NE(storage::request_key(url, p1), url);
  EXPECT_NE(storage::request_key(url, p1), storage::request_key(url, p2));
  EXPECT_NE(storage::request_key(url, p1), storage::request_key(url, encode_request(put)));
  EXPECT_EQ(storage::request_key(url, p1), storage::request_key(url, p1));
  EXPECT_EQ(storage::request_key(url, p1).rfind(url + std::string(1, '\0') + "POST ", 0), 0u);
}

TEST(frontier_entry_codec, version_1_bytes_of_older_stores_still_decode) {
  // A GET entry as crawld wrote it before seed requests existed: version 1, url, depth, kind, chain.
  storage::frontier_entry e{"http://a.test/x", "http://a.test:80", 3, {"http://a.test/r"}, 0, 0, 0};
  auto bytes = storage::encode_entry(e);
  ASSERT_EQ(bytes[0], 1) << "plain GETs keep the old format";
  auto d = storage::decode_entry(bytes);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->url, e.url);
  EXPECT_EQ(d->depth, 3);
  EXPECT_EQ(d->chain, e.chain);
  EXPECT_EQ(d->request, "");
}

TEST(frontier_entry_codec, version_2_carries_the_request_and_rejects_cuts) {
  storage::frontier_entry e{"http://a.test/x", "http://a.test:80", 0, {}, 0, 0, 0, encode_request(post_form("a=1"))};
  auto bytes = storage::encode_entry(e);
  ASSERT_EQ(bytes[0], 2);
  auto d = storage::decode_entry(bytes);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->request, e.request);
  for (std::size_t n = 1; n < bytes.size(); ++n)
    EXPECT_FALSE(storage::decode_entry(std::string_view(bytes).substr(0, n)).ok()) << n;
}

TEST(page_codec_request, a_get_record_stays_version_1_and_a_post_record_is_version_2) {
  storage::page_record p;
  p.url = "http://a.test/search";
  p.final_url = p.url;
  p.status = 200;
  p.outcome = "ok";
  p.body = "<a href=/x>";
  auto get = storage::encode(p);
  EXPECT_EQ(get[0], 1);
  p.request = encode_request(post_form("q=1"));
  auto post = storage::encode(p);
  EXPECT_EQ(post[0], 2);
  auto back = storage::decode(post);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->request, p.request);
  EXPECT_EQ(storage::page_key(*back), storage::request_key(p.url, p.request));
  EXPECT_FALSE(storage::decode(post.substr(0, post.size() - 1)).ok());
}

TEST(frontier_requests, a_post_and_a_get_of_one_url_are_two_requests_each_admitted_once) {
  test::temp_dir dir;
  const std::string url = "http://a.test/search", host = "http://a.test:80";
  const auto post = encode_request(post_form("q=1"));
  {
    auto st = storage::store::open(dir / "db");
    ASSERT_TRUE(st.ok()) << st.message();
    std::shared_ptr<storage::store> db(std::move(*st));
    auto fr = storage::frontier::open(db);
    ASSERT_TRUE(fr.ok()) << fr.message();
    auto& f = **fr;
    EXPECT_TRUE(*f.add({url, host, 0, {}, 0, 0, 0, post}));
    EXPECT_FALSE(*f.add({url, host, 0, {}, 0, 0, 0, post})) << "the same POST again is a duplicate";
    EXPECT_TRUE(*f.add({url, host, 1, {}, 0, 0, 0, ""})) << "a GET link to the POSTed URL is its own request";
    EXPECT_FALSE(*f.add({url, host, 1, {}, 0, 0, 0, ""}));
    EXPECT_TRUE(*f.add({url, host, 0, {}, 0, 0, 0, encode_request(post_form("q=2"))})) << "another body";
    ASSERT_TRUE(f.sync().ok());
  }
  // Reopened (a resume): the POST comes back with its request, and is still known.
  auto st = storage::store::open(dir / "db");
  ASSERT_TRUE(st.ok()) << st.message();
  std::shared_ptr<storage::store> db(std::move(*st));
  auto fr = storage::frontier::open(db, storage::frontier_config{});
  ASSERT_TRUE(fr.ok()) << fr.message();
  auto& f = **fr;
  EXPECT_TRUE(*f.known(storage::request_key(url, post)));
  EXPECT_TRUE(*f.known(url));
  auto first = f.pop(host);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ((*first)->request, post);
  auto second = f.pop(host);
  ASSERT_TRUE(second.ok() && *second);
  EXPECT_EQ((*second)->request, "");
  // Finished with records: both are stored, under their own keys.
  storage::page_record rp;
  rp.url = url;
  rp.final_url = url;
  rp.request = post;
  rp.body = "post answer";
  storage::page_record rg = rp;
  rg.request.clear();
  rg.body = "get answer";
  ASSERT_TRUE(f.finish(**first, &rp).ok());
  ASSERT_TRUE(f.finish(**second, &rg).ok());
  ASSERT_TRUE(f.sync().ok());
  std::vector<std::pair<std::string, std::string>> pages;
  ASSERT_TRUE(db->for_each_page([&](const storage::page_record& p) {
                  pages.emplace_back(request_method(p.request), p.body);
                  return true;
                }).ok());
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0], std::make_pair(std::string("GET"), std::string("get answer")));
  EXPECT_EQ(pages[1], std::make_pair(std::string("POST"), std::string("post answer")));
  auto g = db->get_page(url);
  ASSERT_TRUE(g.ok() && *g);
  EXPECT_EQ((*g)->body, "get answer") << "get_page(url) is the GET";
}

}  // namespace
}  // namespace crawld
